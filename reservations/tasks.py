"""The reservations' background work, run by the worker (`make worker`, manage.py db_worker)."""

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import Reservation


@task()
def expire_request(reservation_id):
    """A pending request's hold has come to its end: expire it, if still pending and lapsed.
    Checked again here, so a request confirmed meanwhile, or a task that runs twice, does nothing.
    """
    reservation = Reservation.objects.filter(pk=reservation_id).first()
    if reservation is not None:
        reservation.expire(timezone.now())


def schedule_expiry(reservation):
    """After the transaction that wrote this pending request commits, have the worker expire it
    at its `expires_at` (Django's tasks docs: enqueue on commit, or the worker may not see it)."""
    if reservation.expires_at is None:
        return
    transaction.on_commit(
        lambda: expire_request.using(run_after=reservation.expires_at).enqueue(str(reservation.pk))
    )
