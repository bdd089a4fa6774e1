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


def enqueue_unless_waiting(periodic, run_after):
    """Enqueue `periodic` (a task that schedules its own next run: series' daily extension,
    payments' reconciliation) for `run_after`, unless a run of it is already waiting: one chain,
    however many times this is asked. A run in progress is RUNNING, not waiting, so a run may ask
    for its successor. Returns the result, or None. Call after commit (Django's tasks docs)."""
    backend = periodic.get_backend()
    if not backend.supports_defer:
        # A backend that runs tasks at once cannot hold one for later; cron runs them then.
        return None
    from django_tasks_db import DatabaseBackend

    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(status="READY", task_path=periodic.module_path)
        if waiting.exists():
            return None
    return periodic.using(run_after=run_after).enqueue()
