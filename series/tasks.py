"""The series' background work, run by the worker (`make worker`, manage.py db_worker).

Sessions are created SERIES_HORIZON_WEEKS ahead; once a day the worker creates those that have
come inside the horizon since. The daily run is a task that schedules its next run (run_after,
a day later) before it works, so a run that fails does not end the chain. At most one run waits
at a time: scheduling looks for a waiting one first. The chain starts with the first series
created, or with `manage.py extend_series` (which also runs it at once; a cron line calling it
daily is a safety net, never a requirement).
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from reservations.tasks import enqueue_unless_waiting

EVERY = timedelta(days=1)


@task()
def extend_series():
    from .services import extend_all_series

    ensure_scheduled()
    return extend_all_series(timezone.now())


def ensure_scheduled():
    """Enqueue the next daily run unless one is already waiting (a run asks for its successor).
    Call after commit (Django's tasks docs), as series.services.schedule_extension does."""
    return enqueue_unless_waiting(extend_series, timezone.now() + EVERY)
