"""Booking a professional who asks for a payment: the session is held while its patient pays on
Mercado Pago's checkout (the local stand-in), and the payment, heard from Mercado Pago's API only,
confirms it. Late, forged, repeated or lost notifications leave the database right."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django_tasks_db.models import DBTaskResult

from notifications.models import Outbox
from payments import tasks
from payments.models import Checkout, Payment, Refund
from reservations.models import Reservation
from scheduling.models import WorkingHours

from .conftest import NOW, csrf_client
from .test_booking import MONDAY, at, post_booking
from .test_notifications import run_due_tasks
from .test_payments_client import (
    deposit_policy_fixture,  # noqa: F401
    standin_fixture,  # noqa: F401
)
from .test_payments_webhook import deliver

pytestmark = pytest.mark.django_db

START = at(MONDAY, 10)


def run_payment_tasks():
    """The worker's pass over the payments' tasks due now (refunds to carry out)."""
    ran = 0
    while rows := [
        r for r in DBTaskResult.objects.ready() if r.task_path == tasks.carry_out_refund.module_path
    ]:
        for row in rows:
            DBTaskResult.objects.filter(pk=row.pk).update(status="SUCCESSFUL")
            tasks.carry_out_refund.call(*row.args_kwargs["args"])
            ran += 1
    return ran


@pytest.fixture(name="hours")
def hours_fixture(professional):
    # Mondays 9 to 13, either modality.
    return WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )


@pytest.fixture(name="told")
def told_fixture(django_capture_on_commit_callbacks):
    """Run `work` and what its actions do once committed (their messages, refunds to carry out),
    as the request or the worker would."""

    def run(work, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return work(*args, **kwargs)

    return run


@pytest.fixture(name="clock")
def clock_fixture():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(name="instant")
def instant_fixture(professional):
    """Lic. Gómez confirms bookings herself: a paid one is confirmed at once."""
    professional.professional_profile.requires_approval = False
    professional.professional_profile.save()
    return professional


def book_held(patient, professional, start=START):
    answer = post_booking(csrf_client(patient), professional, start)
    held = Reservation.objects.get(client=patient, start_time=start)
    return answer, held


def preference_of(standin, reservation):
    (pref,) = [
        p for p in standin.preferences.values() if p["external_reference"] == str(reservation.pk)
    ]
    return pref


def test_booking_holds_the_session_and_sends_her_to_pay(
    patient, instant, hours, deposit_policy, standin, clock, settings
):
    answer, held = book_held(patient, instant)
    pref = preference_of(standin, held)
    assert answer.status_code == 302 and answer["Location"] == pref["init_point"]
    assert (held.status, held.awaiting_payment) == ("PENDING", True)
    assert held.expires_at == NOW + timedelta(minutes=30)
    checkout = Checkout.objects.get(reservation=held)
    assert (checkout.amount, checkout.currency, checkout.url) == (
        Decimal("3000.00"),
        "ARS",
        pref["init_point"],
    )
    # What Mercado Pago is asked: this session, this amount, until the hold ends, and where to
    # tell us and send her back.
    assert pref["items"][0]["unit_price"] == Decimal("3000")
    assert pref["notification_url"] == f"{settings.SITE_URL}/payments/mercadopago/webhook"
    assert pref["back_urls"]["success"] == f"{settings.SITE_URL}/reservations/{held.pk}/paid/"
    assert pref["expiration_date_to"].startswith("2026-03-10T15:30:00")
    # Nobody is told of a session until it is paid.
    assert not Outbox.objects.exists()


def test_the_hold_never_runs_past_the_start(
    patient, instant, hours, deposit_policy, standin, clock, settings
):
    settings.PAYMENT_HOLD_MINUTES = 60 * 24 * 30
    _, held = book_held(patient, instant)
    assert held.expires_at == START


def test_nothing_to_pay_books_as_before(patient, instant, hours, standin, clock):
    answer, booked = book_held(patient, instant)
    assert answer["Location"] == f"/reservations/{booked.pk}/"
    assert (booked.status, booked.awaiting_payment) == ("CONFIRMED", False)
    assert not Checkout.objects.exists() and not standin.preferences


def test_an_approved_payment_confirms_the_session_once(
    patient, instant, hours, deposit_policy, standin, clock, told
):
    _, held = book_held(patient, instant)
    paid = standin.pay(preference_of(standin, held)["id"])
    assert told(deliver, paid["id"]).status_code == 200
    assert told(deliver, paid["id"], request_id="again").status_code == 200  # a repeat
    held.refresh_from_db()
    assert (held.status, held.awaiting_payment, held.expires_at) == ("CONFIRMED", False, None)
    actions = list(held.events.order_by("id").values_list("action", flat=True))
    assert actions == ["created", "paid", "confirmed"]
    kinds = sorted(Outbox.objects.values_list("kind", "recipient_id"))
    assert kinds == sorted(
        [("confirmed", patient.pk), ("new_booking", instant.pk), ("reminder", patient.pk)]
    )


def test_a_professional_who_approves_gets_a_paid_request(
    patient, professional, hours, deposit_policy, standin, clock, settings, told
):
    _, held = book_held(patient, professional)
    told(deliver, standin.pay(preference_of(standin, held)["id"])["id"])
    held.refresh_from_db()
    assert (held.status, held.awaiting_payment) == ("PENDING", False)
    assert held.expires_at == NOW + timedelta(hours=settings.PENDING_EXPIRY_HOURS)
    kinds = sorted(Outbox.objects.values_list("kind", flat=True))
    assert kinds == ["booked", "new_request"]
    # Paid, it is a request like any other: she confirms it.
    assert held.confirm(by=_professional_actor(professional))
    held.refresh_from_db()
    assert held.status == "CONFIRMED"


def _professional_actor(user):
    from reservations.actions import Actor

    return Actor.professional(user)


def test_nobody_confirms_an_unpaid_hold(patient, professional, hours, deposit_policy, clock):
    _, held = book_held(patient, professional)
    assert not held.confirm(by=_professional_actor(professional))
    held.refresh_from_db()
    assert held.status == "PENDING"


def test_an_unpaid_hold_lapses_and_frees_the_time(
    patient, other_patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    clock.shift(timedelta(minutes=31))
    # Nobody ran the worker yet: the next patient's booking expires it and takes the time.
    answer, hers = book_held(other_patient, instant)
    assert answer.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.cancellation_reason) == ("CANCELLED", "expired")
    assert hers.status == "PENDING" and hers.awaiting_payment


def test_paid_after_the_hold_lapsed_comes_back_when_the_time_is_free(
    patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    pref = preference_of(standin, held)
    clock.shift(timedelta(minutes=31))
    assert held.expire()
    deliver(standin.pay(pref["id"])["id"])
    held.refresh_from_db()
    assert (held.status, held.awaiting_payment, held.cancelled_at) == ("CONFIRMED", False, None)
    assert not Refund.objects.exists()


def test_paid_after_the_hold_lapsed_and_the_time_taken_is_refunded_in_full(
    patient, other_patient, instant, hours, deposit_policy, standin, clock, told
):
    _, held = book_held(patient, instant)
    pref = preference_of(standin, held)
    clock.shift(timedelta(minutes=31))
    book_held(other_patient, instant)  # takes the time
    paid = standin.pay(pref["id"])
    told(deliver, paid["id"])
    held.refresh_from_db()
    assert held.status == "CANCELLED"
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.reason) == (
        Decimal("3000.00"),
        "requested",
        "slot_taken",
    )
    assert told(run_payment_tasks) == 1
    refund.refresh_from_db()
    assert refund.status == "approved"
    assert standin.payments[paid["id"]]["transaction_amount_refunded"] == Decimal("3000")
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("3000.00"))
    # She is told, in one message, what came back and why.
    run_due_tasks()
    (message,) = [m for m in mail.outbox if m.to == [patient.email]]
    assert "3.000,00" in message.subject
    assert "horario estaba tomado" in message.body or "time was taken" in message.body


def test_a_payment_naming_another_patients_session_is_ignored(
    patient, other_patient, instant, hours, deposit_policy, standin, clock
):
    _, mine = book_held(patient, instant)
    _, theirs = book_held(other_patient, instant, START + timedelta(hours=1))
    paid = standin.pay(preference_of(standin, mine)["id"])
    # The payment made for her checkout, its reference rewritten to another patient's session.
    standin.payments[paid["id"]]["external_reference"] = str(theirs.pk)
    assert deliver(paid["id"]).status_code == 200
    assert not Payment.objects.exists()
    theirs.refresh_from_db()
    assert (theirs.status, theirs.awaiting_payment) == ("PENDING", True)


def test_a_payment_of_another_amount_is_ignored(
    patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    pref = preference_of(standin, held)
    pref["items"][0]["unit_price"] = Decimal("30")
    deliver(standin.pay(pref["id"])["id"])
    assert not Payment.objects.exists()
    held.refresh_from_db()
    assert held.status == "PENDING"


def test_paid_twice_the_second_is_refunded(patient, instant, hours, deposit_policy, standin, clock):
    _, held = book_held(patient, instant)
    pref = preference_of(standin, held)
    first, second = standin.pay(pref["id"]), standin.pay(pref["id"])
    deliver(first["id"])
    deliver(second["id"])
    refund = Refund.objects.get()
    assert (refund.payment.mp_payment_id, refund.reason) == (str(second["id"]), "paid_twice")


def test_approved_then_pending_stays_confirmed(
    patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    paid = standin.pay(preference_of(standin, held)["id"])
    deliver(paid["id"])
    standin.set_status(paid["id"], "pending")
    deliver(paid["id"], request_id="late")
    held.refresh_from_db()
    assert held.status == "CONFIRMED" and Payment.objects.get().status == "approved"


def test_the_worker_finds_a_payment_whose_notification_never_came(
    patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    standin.pay(preference_of(standin, held)["id"])  # approved; nothing delivered
    clock.shift(timedelta(minutes=2))
    assert tasks.reconcile_once(NOW + timedelta(minutes=2)) >= 1
    held.refresh_from_db()
    assert held.status == "CONFIRMED" and Payment.objects.get().status == "approved"


def test_the_worker_is_scheduled_when_a_hold_is_made(
    patient, instant, hours, deposit_policy, standin, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book_held(patient, instant)
    waiting = DBTaskResult.objects.filter(task_path=tasks.reconcile.module_path)
    assert waiting.get().run_after == NOW + timedelta(minutes=2)


def test_the_return_page_believes_the_database_not_the_address(
    patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    client = csrf_client(patient)
    url = f"/reservations/{held.pk}/paid/?status=approved&collection_status=approved"
    html = client.get(url).content.decode()
    assert "Pago recibido" not in html and "Payment received" not in html
    # Paid at Mercado Pago, and no notification yet: the page asks Mercado Pago itself.
    standin.pay(preference_of(standin, held)["id"])
    page = client.get(url)
    held.refresh_from_db()
    assert held.status == "CONFIRMED"
    assert page.status_code == 200 and Payment.objects.count() == 1


def test_someone_elses_return_page_and_pay_button_are_404(
    patient, other_patient, instant, hours, deposit_policy, standin, clock
):
    _, held = book_held(patient, instant)
    stranger = csrf_client(other_patient)
    assert stranger.get(f"/reservations/{held.pk}/paid/").status_code == 404
    before = len(standin.preferences)
    answer = stranger.post(
        f"/reservations/{held.pk}/pay/", {"csrfmiddlewaretoken": "x" * 32}, follow=False
    )
    assert answer.status_code in (403, 404) and len(standin.preferences) == before


def test_the_pay_button_sends_her_back_to_the_same_checkout(
    patient, instant, hours, deposit_policy, standin, clock
):
    from .conftest import CSRF_TOKEN

    _, held = book_held(patient, instant)
    client = csrf_client(patient)
    html = client.get(f"/reservations/{held.pk}/").content.decode()
    assert f'action="/reservations/{held.pk}/pay/"' in html and "3.000,00" in html
    answer = client.post(f"/reservations/{held.pk}/pay/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    assert answer["Location"] == Checkout.objects.get().url
    assert len(standin.preferences) == 1


def test_the_booking_week_says_the_price_and_the_deposit_first(
    patient, instant, hours, deposit_policy, clock
):
    html = csrf_client(patient).get(f"/book/{instant.pk}/").content.decode()
    assert "10.000,00" in html and "3.000,00" in html


def test_a_held_session_cannot_be_moved_before_it_is_paid(
    patient, instant, hours, deposit_policy, standin, clock
):
    from .conftest import CSRF_TOKEN
    from .test_booking import param

    _, held = book_held(patient, instant)
    answer = csrf_client(patient).post(
        f"/reservations/{held.pk}/reschedule/",
        {"start": param(START + timedelta(hours=1)), "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert answer.status_code in (200, 409)
    assert Reservation.objects.count() == 1


def test_holds_count_toward_the_limit_of_waiting_requests(
    patient, instant, hours, deposit_policy, standin, clock
):
    book_held(patient, instant)
    answer = post_booking(csrf_client(patient), instant, START + timedelta(hours=1))
    assert answer.status_code == 409 or "Location" not in answer
    assert Reservation.objects.count() == 1
