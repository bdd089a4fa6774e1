"""Booking a session that is paid for online, and sending its patient to pay.

A professional whose policy asks for a payment when booking (PaymentPolicy.amount_due): the
session is booked PENDING and `awaiting_payment`, held PAYMENT_HOLD_MINUTES (never past its
start), and its patient is sent to Mercado Pago's Checkout Pro. The payment, heard from Mercado
Pago, confirms it (rules.settle); unpaid, it lapses like any request and frees its time.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from reservations.models import Reservation
from scheduling import booking

from . import mercadopago, tasks
from .models import Checkout, Collect, PaymentPolicy

# Mercado Pago refuses a preference that expires too soon to pay; a hold with less left than
# this is not sent to pay (it lapses).
LEAST_TO_PAY = timedelta(minutes=2)


# What a door joins when it reads a professional to book (scheduling.booking.bookable_professional's
# `related`): their policy, read by policy_of without a query of its own.
POLICY = ("payment_policy",)


def policy_of(professional):
    """The professional's PaymentPolicy, or None (nothing is paid online): no query when it was
    joined (POLICY)."""
    try:
        return professional.payment_policy
    except PaymentPolicy.DoesNotExist:
        return None


def due(professional, modality):
    """(amount, currency) paid online when booking `professional` in `modality`, or None."""
    policy = policy_of(professional)
    amount = policy.amount_due(modality) if policy else None
    return (amount, policy.currency) if amount else None


def asks_payment(professional):
    """Whether booking `professional` asks for a payment (in some modality)."""
    policy = policy_of(professional)
    return bool(policy and policy.collect != Collect.NONE)


def book(patient, professional, start_time, modality, *, now, channel):
    """scheduling.booking.request_booking, held for payment when the professional's policy asks
    for one in `modality`. Returns the Reservation (awaiting_payment when it is to be paid), or a
    Refusal."""
    hold = None
    if due(professional, modality):
        hold = timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    result = booking.request_booking(
        patient, professional, start_time, modality, now=now, channel=channel, hold=hold
    )
    if hold is not None and isinstance(result, Reservation):
        # The worker asks Mercado Pago about it should no notification come.
        transaction.on_commit(tasks.ensure_reconciling)
    return result


def payable(reservation, now=None):
    """Whether `reservation` may be paid now: held for its payment, and time enough left."""
    now = now or timezone.now()
    return (
        reservation.held_for_payment
        and reservation.expires_at is not None
        and reservation.expires_at - now >= LEAST_TO_PAY
    )


def description(reservation):
    """The item's title on Mercado Pago and on the payer's statement: whose session, when."""
    with override(settings.LANGUAGE_CODE):
        start = timezone.localtime(reservation.start_time)
        when = date_format(start, "l j \\d\\e F, H:i")
        name = reservation.professional.get_full_name() or reservation.professional.get_username()
        return _("Session with %(name)s · %(when)s") % {"name": name, "when": when}


def checkout_url(reservation, now=None):
    """Where `reservation`'s patient pays for it: its Checkout Pro preference's address, made
    the first time (the amount fixed then, what any payment must be) and kept while it is
    payable. None when it is not payable. Raises MercadoPagoError when Mercado Pago could not
    make one (the session page offers "Pagar" again)."""
    now = now or timezone.now()
    if not payable(reservation, now):
        return None
    checkout = Checkout.objects.filter(reservation=reservation).first()
    if checkout is not None and checkout.url:
        return checkout.url
    if checkout is None:
        asked = due(reservation.professional, reservation.session_modality)
        if asked is None:
            return None
        checkout, _created = Checkout.objects.get_or_create(
            reservation=reservation,
            defaults={
                "amount": asked[0],
                "currency": asked[1],
                "expires_at": reservation.expires_at,
                "created_at": now,
            },
        )
    site = settings.SITE_URL.rstrip("/")
    back = site + reverse("payment_return", args=[reservation.pk])
    preference = mercadopago.create_preference(
        reservation,
        checkout.amount,
        description(reservation),
        notification_url=site + reverse("mercadopago_webhook"),
        back_urls={"success": back, "failure": back, "pending": back},
        expires_at=checkout.expires_at,
    )
    Checkout.objects.filter(pk=checkout.pk).update(
        preference_id=str(preference.get("id", "")), url=preference["init_point"]
    )
    return preference["init_point"]
