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

EVERY = timedelta(days=1)


@task()
def extend_series():
    from .services import extend_all_series

    ensure_scheduled(later=True)
    return extend_all_series(timezone.now())


def ensure_scheduled(later=False):
    """Enqueue the next daily run unless one is already waiting. `later`: from a run itself, which
    is RUNNING, not waiting, so it schedules the next one. Call after commit (Django's tasks
    docs), as series.services.schedule_extension does."""
    backend = extend_series.get_backend()
    if not backend.supports_defer:
        # A backend that runs tasks at once cannot hold one for tomorrow; cron runs them then.
        return None
    from django_tasks_db import DatabaseBackend

    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(status="READY", task_path=extend_series.module_path)
        if waiting.exists():
            return None
    return extend_series.using(run_after=timezone.now() + EVERY).enqueue()
