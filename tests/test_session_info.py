"""What a patient is told about one session: how to join or where to go, whom to contact, until
when it can be cancelled, what happened to it, and dates that read right in any year."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from reservations.actions import Actor

from .conftest import NOW, csrf_client, make_user

pytestmark = pytest.mark.django_db


def detail(client, reservation, language="es-AR"):
    response = client.get(f"/reservations/{reservation.pk}/", headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def profile(professional):
    profile = professional.professional_profile
    profile.video_url = "https://meet.example/gomez"
    profile.address = "Av. Corrientes 1234, piso 3"
    profile.phone = "+54 11 4555-0101"
    profile.whatsapp = "+54 9 11 5555-0101"
    profile.contact_email = "gomez@consultorio.example"
    profile.save()
    return profile


def test_the_join_button_appears_fifteen_minutes_before_the_start(
    patient, profile, make_reservation
):
    session = make_reservation(patient, NOW)
    client = csrf_client(patient)
    with time_machine.travel(NOW - timedelta(minutes=15, seconds=1), tick=False):
        html = client.get("/dashboard/").content.decode()
        assert "https://meet.example/gomez" not in html and "Entrar a la sesión" not in html
        assert "El enlace para entrar se habilita hoy a las 11:45." in html
    with time_machine.travel(NOW - timedelta(minutes=15), tick=False):
        html = client.get("/dashboard/").content.decode()
        assert 'href="https://meet.example/gomez"' in html and "Entrar a la sesión" in html
        assert 'href="https://meet.example/gomez"' in detail(client, session)
    with time_machine.travel(session.end_time, tick=False):
        assert "https://meet.example/gomez" not in detail(client, session)


def test_a_session_of_its_own_link_wins_and_a_cancelled_one_shows_none(
    patient, profile, make_reservation, frozen_now
):
    own = make_reservation(patient, NOW + timedelta(minutes=5))
    own.video_url = "https://meet.example/only-this-one"
    own.save()
    client = csrf_client(patient)
    html = detail(client, own)
    assert 'href="https://meet.example/only-this-one"' in html
    assert "meet.example/gomez" not in html
    cancelled = make_reservation(patient, NOW + timedelta(hours=3), status="CANCELLED")
    assert "meet.example" not in detail(client, cancelled)


def test_without_a_link_it_says_so_and_offers_contact(patient, professional, make_reservation):
    profile = professional.professional_profile
    profile.contact_email = "gomez@consultorio.example"
    profile.save()
    session = make_reservation(patient, NOW + timedelta(days=7))
    with time_machine.travel(NOW, tick=False):
        html = csrf_client(patient).get("/dashboard/").content.decode()
    assert "Todavía no hay enlace para entrar a esta sesión." in html
    assert 'href="mailto:gomez@consultorio.example"' in html
    assert str(session.pk) in html


def test_an_in_person_session_gives_the_address_and_a_map_link(
    patient, profile, make_reservation, frozen_now
):
    session = make_reservation(patient, NOW + timedelta(days=3), modality="Presencial")
    client = csrf_client(patient)
    for html in (client.get("/dashboard/").content.decode(), detail(client, session)):
        assert "Av. Corrientes 1234, piso 3" in html
        assert (
            'href="https://www.openstreetmap.org/search?query=Av.%20Corrientes%201234%2C%20piso%203"'
            in html
        )
        assert "meet.example" not in html


def test_the_practices_details_stand_in_for_a_professional_without_them(
    patient, professional, make_reservation, frozen_now, settings
):
    settings.PRACTICE_ADDRESS = "Gurruchaga 500"
    settings.PRACTICE_PHONE = "011 4000-0000"
    session = make_reservation(patient, NOW + timedelta(hours=5), modality="Presencial")
    html = detail(csrf_client(patient), session)
    assert "Gurruchaga 500" in html
    assert "Contactá al consultorio:" in html and 'href="tel:+541140000000"' in html


def test_each_session_says_until_when_it_can_be_cancelled_by_its_professionals_notice(
    patient, professional, make_reservation, frozen_now
):
    ruiz = make_user("ruiz@example.com", first_name="Andrés", last_name="Ruiz")
    from accounts.models import ProfessionalProfile

    ProfessionalProfile.objects.create(
        user=ruiz, display_name="Dr. Andrés Ruiz", cancellation_notice_hours=24
    )
    gomez = make_reservation(patient, NOW + timedelta(days=7))
    with_ruiz = make_reservation(patient, NOW + timedelta(days=8), pro=ruiz)
    client = csrf_client(patient)
    assert "Podés cancelar en línea hasta el domingo 15 de marzo a las 12:00." in detail(
        client, gomez
    )
    assert "Podés cancelar en línea hasta el martes 17 de marzo a las 12:00." in detail(
        client, with_ruiz
    )
    # And the cancel dialog says it too.
    dashboard = client.get("/dashboard/").content.decode()
    assert 'data-confirm-detail="Podés cancelar en línea hasta el martes 17 de marzo' in dashboard
    # The page's footnote no longer claims one notice for everyone.
    assert "depende de cada profesional" in dashboard


def test_dates_in_another_year_read_in_full_in_both_languages(
    patient, make_reservation, frozen_now
):
    # Monday 11 January 2027 and Thursday 2 September 2027, 12:00 in Buenos Aires.
    january = make_reservation(patient, datetime.fromisoformat("2027-01-11T15:00:00+00:00"))
    september = make_reservation(patient, datetime.fromisoformat("2027-09-02T15:00:00+00:00"))
    client = csrf_client(patient)
    spanish = client.get("/dashboard/", headers={"Accept-Language": "es-AR"}).content.decode()
    assert "lunes 11 de enero de 2027, 12:00 – 12:45 (45 min)" in spanish
    assert "jueves 2 de septiembre de 2027" in spanish and "setiembre" not in spanish
    english = client.get("/dashboard/", headers={"Accept-Language": "en"}).content.decode()
    assert "Monday, January 11, 2027, 12:00 – 12:45 (45 min)" in english
    assert "Thursday, September 2, 2027" in english
    assert "martes 17 de marzo" in detail(
        client, make_reservation(patient, NOW + timedelta(days=7))
    )
    assert str(january.pk) in spanish and str(september.pk) in spanish


def test_the_detail_page_tells_the_sessions_story_without_internal_edits(
    patient, staff, make_reservation, frozen_now
):
    session = make_reservation(patient, NOW + timedelta(days=7), status="PENDING")
    session.confirm(by=Actor.staff(staff), now=NOW)
    session.video_url = "https://meet.example/x"
    session.change(["video_url"], by=Actor.staff(staff), now=NOW)
    session.cancel(by=Actor.staff(staff), reason="La profesional está enferma", now=NOW)
    html = detail(csrf_client(patient), session)
    assert "Historia de este turno" in html
    assert "Confirmado" in html
    assert "Cancelado por el consultorio" in html and "La profesional está enferma" in html
    assert "video_url" not in html and "meet.example/x" not in html


def test_a_professionals_photo_is_shown_to_their_patients_only(
    patient, other_patient, professional, make_reservation, frozen_now, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    profile = professional.professional_profile
    client = csrf_client(patient)
    session = make_reservation(patient, NOW + timedelta(days=3))
    # No photo: their initials.
    assert '<span class="avatar avatar--initials" aria-hidden="true">CG</span>' in detail(
        client, session
    )
    gif = (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
        b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )
    profile.photo = SimpleUploadedFile("gomez.gif", gif, content_type="image/gif")
    profile.save()
    photo_url = f"/professionals/{professional.pk}/photo/"
    assert f'src="{photo_url}"' in detail(client, session)
    response = client.get(photo_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == gif
    # Someone who is not their patient, and a missing one, get the same 404.
    assert csrf_client(other_patient).get(photo_url).status_code == 404
    assert client.get(f"/professionals/{uuid.uuid4()}/photo/").status_code == 404
    assert csrf_client().get(photo_url).status_code == 302


def test_the_patient_reads_a_decline_and_a_late_cancel_for_what_they_were(
    patient, professional, staff, make_reservation, frozen_now
):
    declined = make_reservation(patient, NOW + timedelta(days=3), status="PENDING")
    declined.decline(by=Actor.professional(professional), reason="Ese día no atiendo")
    late = make_reservation(patient, NOW + timedelta(hours=6))
    late.cancel(by=Actor.staff(staff), reason="Avisó por teléfono", for_patient=True)
    client = csrf_client(patient)
    dashboard = client.get("/dashboard/").content.decode()
    assert "Cancelado fuera de término</span>" in dashboard
    page = detail(client, declined)
    assert "Rechazado por tu profesional" in page and "Ese día no atiendo" in page
