"""Deleting the demo's own rows, so the commands can build them again for a new day.

The core never deletes a session: its links are PROTECT (an event, a series' occurrence, the
session a move replaced), and Django's delete refuses a row something still points at, even a
row deleted in the same call. So the demo deletes what points at its sessions first, from the
outside in, each with a queryset's delete(); anything else that points at one of them (another
app's row, someone's session) still stops the deletion, as it should.
"""

from django.db.models import Q

from notifications.models import Outbox
from payments.models import Checkout, Payment, Refund
from reservations.models import Reservation, ReservationEvent
from series.models import Occurrence, Series, SeriesEvent, SkippedOccurrence


def delete_series(series):
    """Delete these series (a queryset) and every row of theirs: occurrences, skipped dates,
    events. Their sessions (reservations) stay."""
    for model in (Occurrence, SkippedOccurrence, SeriesEvent):
        model.objects.filter(series__in=series).delete()
    series.delete()


def delete_sessions(users):
    """Delete the sessions of `users` (as patient or professional) and every row that hangs off
    them. The users, their profiles and hours stay, and so does whatever they did to anyone
    else's sessions (a receptionist's cancel, a series she made)."""
    theirs = Q(client__in=users) | Q(professional__in=users)
    sessions = Reservation.objects.filter(theirs)
    # Their messages (each names the session it is about: the first, for an action on several),
    # deleted here rather than left to a cascade, so a PROTECT would not stop the demo.
    Outbox.objects.filter(reservation__in=sessions).delete()
    # Their payments at the local stand-in (the demo's money is pretend), refunds first, and
    # what a patient was asked to pay (a checkout, PROTECT like the payments).
    Refund.objects.filter(payment__reservation__in=sessions).delete()
    Payment.objects.filter(reservation__in=sessions).delete()
    Checkout.objects.filter(reservation__in=sessions).delete()
    # Their series (made by the demo, or by someone during it), whose occurrences point at them.
    delete_series(Series.objects.filter(theirs))
    ReservationEvent.objects.filter(reservation__in=sessions).delete()
    # A move leaves a chain: the new session points at the one it replaced (rescheduled_from),
    # which Django will not delete while it is pointed at. So the sessions nothing points at go
    # first: those never moved and the last of each chain, then the one before, and so on.
    while sessions.filter(moves__isnull=True).delete()[0]:
        pass
    # Empty now, unless something outside the demo points at one of them: then this raises
    # ProtectedError, naming it, and the transaction leaves everything as it was.
    sessions.delete()
