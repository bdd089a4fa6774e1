import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from reservations.models import Reservation

from .conftest import CSRF_TOKEN, PASSWORD, csrf_client
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def login(client, email, password):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
    )


def test_a_patient_logs_in_with_email_and_lands_on_the_dashboard(patient):
    client = csrf_client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "Turnos" in page.content.decode()
    r = login(client, "lucia@example.com", PASSWORD)
    assert r.status_code == 302
    assert r["Location"] == "/dashboard/"
    assert "Hola, bienvenido Lucía" in client.get("/dashboard/").content.decode()


def test_a_wrong_password_does_not_log_in(patient):
    client = csrf_client()
    r = login(client, "lucia@example.com", "wrong")
    assert r.status_code == 200
    assert client.get("/dashboard/").status_code == 302


def test_logout_is_a_post(patient):
    client = csrf_client(patient)
    client.get("/accounts/logout/")
    assert client.get("/dashboard/").status_code == 200
    r = client.post("/accounts/logout/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    assert r.status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_password_reset_through_the_emailed_link(patient):
    client = csrf_client()
    r = client.post(
        "/accounts/password/reset/",
        {"email": "lucia@example.com", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert r.status_code == 302
    assert mail.outbox == []  # the worker sends it, not the request
    run_due_tasks()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    follow = client.get(link.group(1))
    assert follow.status_code == 302
    form_url = follow["Location"]
    r = client.post(
        form_url,
        {
            "password1": "a-new-long-secret-9",
            "password2": "a-new-long-secret-9",
            "csrfmiddlewaretoken": CSRF_TOKEN,
        },
    )
    assert r.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password("a-new-long-secret-9")


def test_signup_is_closed(db):
    r = csrf_client().get("/accounts/signup/")
    assert r.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in r.templates]
    assert User.objects.count() == 0


def test_create_user_and_superuser():
    user = User.objects.create_user(
        email="Ana@Example.com", password="x-long-pass", first_name="Ana"
    )
    assert user.email == "ana@example.com"
    assert user.check_password("x-long-pass")
    assert not user.is_staff
    admin = User.objects.create_superuser(email="boss@example.com", password="x-long-pass")
    assert admin.is_staff and admin.is_superuser
    assert len(str(user.pk)) == 36


def test_seed_demo_can_run_twice(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Reservation.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Reservation.objects.count()) == counts
    out = capsys.readouterr().out
    assert "paciente@turnos.example" in out
    assert "turnos-demo-2026" in out


def _manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_without_secrets(db):
    r = _manage("check", DEBUG="0")
    assert r.returncode != 0
    assert "SECRET_KEY must be set" in r.stderr
    r = _manage("check", DEBUG="0", SECRET_KEY="k" * 60)
    assert "ALLOWED_HOSTS must be set" in r.stderr


def test_production_mode_passes_the_deploy_check(db):
    r = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="prod-" + "s3cr3t-" * 10,
        ALLOWED_HOSTS="turnos.example",
    )
    assert r.returncode == 0, r.stdout + r.stderr
