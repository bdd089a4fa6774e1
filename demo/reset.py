"""Deleting the demo's own rows, so the commands can build them again for a new day. Real
sessions are never deleted (the core's PROTECTs); only these, which the demo made."""

from django.db.models import Q

from reservations.models import Reservation, ReservationEvent
from series.models import Occurrence, Series, SeriesEvent, SkippedOccurrence


def delete_series(series):
    """Delete these series (a queryset) and every row of theirs: occurrences, skipped dates,
    events. Their sessions (reservations) stay."""
    for model in (Occurrence, SkippedOccurrence, SeriesEvent):
        model.objects.filter(series__in=series).delete()
    series.delete()


def delete_sessions(users):
    """Delete the sessions of `users` (as patient or professional) and what hangs off them."""
    delete_series(Series.objects.filter(Q(client__in=users) | Q(professional__in=users)))
    rows = Reservation.objects.filter(Q(client__in=users) | Q(professional__in=users))
    ReservationEvent.objects.filter(reservation__in=rows).delete()
    rows.delete()
