"""What a session costs, and the payments and refunds Mercado Pago reports.

Money is a Decimal with two places and its currency stored beside it, never a float: `money()`
is the one way a value becomes an amount here (it refuses floats), and Mercado Pago's answers are
read with their numbers as Decimals (payments/mercadopago.py).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.models import Modality, Reservation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_DIGITS = 12  # up to 9,999,999,999.99


class Currency(models.TextChoices):
    # Mercado Pago charges in the account's own currency; the practices are Argentine.
    ARS = "ARS", _("Argentine peso")


def money(value):
    """`value` (a Decimal, an int or a numeric string) as an amount with two places. A float is
    refused: it cannot say 0.10 exactly, and an amount that went through one is already wrong."""
    if isinstance(value, float):
        raise TypeError("Amounts are Decimals, never floats.")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"Not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"Not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)


class Collect(models.TextChoices):
    """What is paid online when booking."""

    NONE = "none", _("Nothing online")
    DEPOSIT = "deposit", _("A deposit")
    WHOLE = "whole", _("The whole session")


class LateKeeps(models.TextChoices):
    """What the practice keeps of what was paid when the patient cancels late or is absent."""

    NOTHING = "nothing", _("Nothing: everything is refunded")
    DEPOSIT = "deposit", _("The deposit")
    EVERYTHING = "everything", _("Everything paid")


class PaymentPolicy(models.Model):
    """One professional's price and how it is paid. No policy: nothing is paid online."""

    professional = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="payment_policy",
        verbose_name=_("professional"),
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.ARS
    )
    price = money_field(_("price per session"), validators=[MinValueValidator(CENT)])
    price_virtual = money_field(
        _("price of a virtual session"),
        null=True,
        blank=True,
        validators=[MinValueValidator(CENT)],
        help_text=_("Blank: the price per session."),
    )
    price_in_person = money_field(
        _("price of an in-person session"),
        null=True,
        blank=True,
        validators=[MinValueValidator(CENT)],
        help_text=_("Blank: the price per session."),
    )
    collect = models.CharField(
        _("paid online when booking"), max_length=8, choices=Collect.choices, default=Collect.NONE
    )
    deposit_percent = models.PositiveSmallIntegerField(
        _("deposit (% of the price)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A deposit is either a percentage of the price or a fixed amount."),
    )
    deposit_amount = money_field(
        _("deposit (fixed amount)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(CENT)],
    )
    late_keeps = models.CharField(
        _("a late cancel or an absence keeps"),
        max_length=10,
        choices=LateKeeps.choices,
        default=LateKeeps.NOTHING,
    )

    class Meta:
        verbose_name = _("payment policy")
        verbose_name_plural = _("payment policies")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="policy_price_positive"),
            models.CheckConstraint(
                condition=Q(price_virtual__isnull=True) | Q(price_virtual__gt=0),
                name="policy_price_virtual_positive",
            ),
            models.CheckConstraint(
                condition=Q(price_in_person__isnull=True) | Q(price_in_person__gt=0),
                name="policy_price_in_person_positive",
            ),
            models.CheckConstraint(
                condition=Q(deposit_percent__isnull=True)
                | Q(deposit_percent__gte=1, deposit_percent__lte=100),
                name="policy_deposit_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(deposit_amount__isnull=True) | Q(deposit_amount__gt=0),
                name="policy_deposit_amount_positive",
            ),
            # A deposit is one or the other, never both.
            models.CheckConstraint(
                condition=Q(deposit_percent__isnull=True) | Q(deposit_amount__isnull=True),
                name="policy_one_kind_of_deposit",
            ),
        ]

    def __str__(self):
        return f"{self.professional} · {self.price} {self.currency}"

    def clean(self):
        errors = {}
        has_deposit = self.deposit_percent is not None or self.deposit_amount is not None
        if self.deposit_percent is not None and self.deposit_amount is not None:
            errors["deposit_amount"] = _("Give the deposit as a percentage or an amount, not both.")
        elif self.collect == Collect.DEPOSIT and not has_deposit:
            errors["deposit_percent"] = _("Say how much the deposit is.")
        if self.late_keeps == LateKeeps.DEPOSIT and not has_deposit:
            errors["late_keeps"] = _("Keeping the deposit needs a deposit: say how much it is.")
        if self.deposit_amount is not None and self.price is not None:
            prices = [p for p in (self.price, self.price_virtual, self.price_in_person) if p]
            if self.deposit_amount > min(prices):
                errors["deposit_amount"] = _("The deposit cannot be more than the price.")
        for name in ("price", "price_virtual", "price_in_person", "deposit_amount"):
            value = getattr(self, name)
            if value is not None and money(value) != value:
                errors.setdefault(name, _("Amounts have two decimal places at most."))
        if errors:
            raise ValidationError(errors)

    def price_for(self, modality):
        """The price of a session in `modality` (Modality), as an amount."""
        own = {
            Modality.VIRTUAL: self.price_virtual,
            Modality.IN_PERSON: self.price_in_person,
        }.get(modality)
        return money(own if own is not None else self.price)

    def deposit_for(self, modality):
        """The deposit of a session in `modality`, whatever is collected; ZERO when there is none.
        A percentage is rounded to the centavo (half up); never more than the price."""
        price = self.price_for(modality)
        if self.deposit_percent is not None:
            deposit = money(price * self.deposit_percent / 100)
        elif self.deposit_amount is not None:
            deposit = money(self.deposit_amount)
        else:
            return ZERO
        return min(deposit, price)

    def amount_due(self, modality):
        """What is paid online when booking a session in `modality`: ZERO when nothing is."""
        if self.collect == Collect.WHOLE:
            return self.price_for(modality)
        if self.collect == Collect.DEPOSIT:
            return self.deposit_for(modality)
        return ZERO

    def kept_on_late(self, paid, modality=None):
        """Of `paid` (what the patient paid for a session), what the practice keeps when they
        cancel late or do not come; the rest is refunded. `modality` says which price a deposit
        is taken of (the price per session when None)."""
        paid = money(paid)
        if self.late_keeps == LateKeeps.EVERYTHING:
            return paid
        if self.late_keeps == LateKeeps.DEPOSIT:
            return min(paid, self.deposit_for(modality))
        return ZERO


class PaymentStatus(models.TextChoices):
    """A payment's status, as Mercado Pago names it."""

    PENDING = "pending", _("Pending")
    IN_PROCESS = "in_process", _("In process")
    AUTHORIZED = "authorized", _("Authorized")
    APPROVED = "approved", _("Approved")
    IN_MEDIATION = "in_mediation", _("In dispute")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    CHARGED_BACK = "charged_back", _("Charged back")


# How far along a payment is. A status only replaces one of a lower rank, or another of its own
# rank: deliveries come out of order (a "pending" sent before the "approved" may arrive after
# it), and an approved payment never goes back to pending.
STATUS_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.IN_PROCESS: 0,
    PaymentStatus.AUTHORIZED: 0,
    PaymentStatus.REJECTED: 1,
    PaymentStatus.CANCELLED: 1,
    PaymentStatus.APPROVED: 2,
    PaymentStatus.IN_MEDIATION: 2,
    PaymentStatus.REFUNDED: 3,
    PaymentStatus.CHARGED_BACK: 3,
}


def replaces(new, old):
    """Whether status `new`, just heard, replaces `old`, the one stored."""
    return new != old and STATUS_RANK[new] >= STATUS_RANK[old]


# Statuses of a payment whose money reached the practice (some of it may have been given back).
RECEIVED = (PaymentStatus.APPROVED, PaymentStatus.IN_MEDIATION, PaymentStatus.REFUNDED)


class Method(models.TextChoices):
    MERCADOPAGO = "mercadopago", _("Mercado Pago")
    # Recorded by reception from the admin: the money changed hands outside Mercado Pago.
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")


class Checkout(models.Model):
    """What we asked Mercado Pago to collect for a session held while its patient pays: the
    amount (fixed when the preference is made), the preference, and until when it may be paid.
    A payment for the session must be exactly this (rules.apply)."""

    reservation = models.OneToOneField(
        Reservation,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="checkout",
        verbose_name=_("reservation"),
    )
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    preference_id = models.CharField(_("Mercado Pago preference id"), max_length=64, blank=True)
    # Where the patient pays (the preference's init_point).
    url = models.URLField(_("checkout address"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("may be paid until"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_positive"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"


class Payment(models.Model):
    """One payment for a session: a Mercado Pago one (one row per Mercado Pago payment id,
    written only from what its API answered, payments/rules.py, never from a notification's own
    body), or one reception recorded as paid by other means (cash, transfer)."""

    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("reservation"),
    )
    method = models.CharField(
        _("paid by"), max_length=12, choices=Method.choices, default=Method.MERCADOPAGO
    )
    # None for a payment by other means.
    mp_payment_id = models.CharField(
        _("Mercado Pago payment id"), max_length=32, unique=True, null=True, blank=True
    )
    # Who recorded a payment by other means, and what they noted (a receipt number, say).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=PaymentStatus.choices)
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    amount_refunded = money_field(_("refunded"), default=ZERO)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0, amount_refunded__lte=F("amount")),
                name="payment_refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(method="mercadopago", mp_payment_id__isnull=False)
                | (~Q(method="mercadopago") & Q(mp_payment_id__isnull=True)),
                name="payment_mp_id_iff_mercadopago",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created")]

    def __str__(self):
        who = self.mp_payment_id or self.get_method_display()
        return f"{who} · {self.amount} {self.currency} · {self.get_status_display()}"

    @property
    def received(self):
        """Whether its money reached the practice (some may have been given back since)."""
        return self.status in RECEIVED

    @property
    def held(self):
        """What the practice holds of it now."""
        return self.amount - self.amount_refunded if self.received else ZERO


class RefundStatus(models.TextChoices):
    # Asked for, no answer yet (a timeout): asked again with the same key, it is done once.
    REQUESTED = "requested", _("Requested")
    IN_PROCESS = "in_process", _("In process")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_REFUNDS = (RefundStatus.REQUESTED, RefundStatus.IN_PROCESS)


class Refund(models.Model):
    """A refund: decided (REQUESTED), then asked of Mercado Pago with its idempotency key on
    every attempt (X-Idempotency-Key), so asking again after a timeout refunds once; a payment
    by other means is given back by hand and its refund recorded APPROVED at once."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = money_field(_("amount"), validators=[MinValueValidator(CENT)])
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    mp_refund_id = models.CharField(_("Mercado Pago refund id"), max_length=32, blank=True)
    # Why, as the patient reads it (a code for the rules' own: see rules.REFUND_REASONS).
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]
        indexes = [
            # The refunds still in progress, for the worker to carry out and reconcile.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["requested", "in_process"]),
                name="refund_open",
            )
        ]

    def __str__(self):
        return f"{self.amount} · {self.get_status_display()}"
