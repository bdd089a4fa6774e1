"""Receivers of other apps' signals (connected in SeriesConfig.ready)."""

from django.db.models import Q
from django.dispatch import receiver

from reservations.signals import demo_reset


def delete_series(series):
    """Delete these series (a queryset) and every row of theirs: occurrences, skipped dates,
    events. Their sessions (reservations) stay."""
    from .models import Occurrence, SeriesEvent, SkippedOccurrence

    for model in (Occurrence, SkippedOccurrence, SeriesEvent):
        model.objects.filter(series__in=series).delete()
    series.delete()


@receiver(demo_reset, dispatch_uid="series_delete_demo_series")
def delete_demo_series(sender, users, **kwargs):
    """The demo's sessions are about to be deleted: delete the demo users' series first (their
    occurrences protect the sessions). Only demo rows; `seed_demo_series` builds them again."""
    from .models import Series

    delete_series(Series.objects.filter(Q(client__in=users) | Q(professional__in=users)))
