"""A session's money as its patient and the practice read it: what is due, what was paid, what
was given back, what is coming back and what the practice keeps. One account, said the same way
on the session's page, in the agenda, in the API and in the messages (`lines`)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, Subquery, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reservations.models import Status

from . import rules
from .booking import policy_of
from .models import (
    OPEN_REFUNDS,
    RECEIVED,
    ZERO,
    Checkout,
    Method,
    Payment,
    Refund,
)


def money_text(amount):
    """'$ 3.000,00' (es-AR), '$ 3,000.00' (en): an amount as people read it."""
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    return f"$ {number}"


@dataclass
class Ledger:
    reservation: object
    due: Decimal = ZERO  # to pay now, to keep the session (held for payment)
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    coming: Decimal = ZERO  # refunds decided, not yet made
    payments: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    checkout: object = None  # ledgers(): the held session's Checkout, when one was made

    @property
    def kept(self):
        """What the practice keeps of a session cancelled or missed."""
        r = self.reservation
        done = r.status == Status.CANCELLED or r.attended is False
        return self.paid - self.refunded - self.coming if done else ZERO

    @property
    def status(self):
        """For the API and the agenda: "due", "paid", "refunded" (all of it), "partly_refunded",
        or "" when nothing is paid online."""
        if self.paid:
            if self.refunded + self.coming >= self.paid:
                return "refunded"
            return "partly_refunded" if self.refunded + self.coming else "paid"
        return "due" if self.due else ""

    def lines(self):
        """What the patient reads about this session's money, sentence by sentence."""
        said = []
        r = self.reservation
        if self.due:
            until = timezone.localtime(r.expires_at)
            said.append(
                _("To keep this time, pay %(amount)s by %(time)s.")
                % {"amount": money_text(self.due), "time": formats.time_format(until, "H:i")}
            )
        for p in self.payments:
            # "7 de diciembre", "December 7": the reader's language's own order and words.
            day = formats.date_format(timezone.localtime(p.created_at), "MONTH_DAY_FORMAT")
            by = (
                _("with Mercado Pago")
                if p.method == Method.MERCADOPAGO
                else _("by %(method)s") % {"method": p.get_method_display().lower()}
            )
            said.append(
                _("You paid %(amount)s %(by)s on %(day)s.")
                % {"amount": money_text(p.amount), "by": by, "day": day}
            )
        if self.refunded:
            said.append(_("We refunded %(amount)s.") % {"amount": money_text(self.refunded)})
        if self.coming:
            said.append(
                _(
                    "We are refunding %(amount)s: Mercado Pago returns it to the same card or "
                    "account you paid with, usually within a few business days."
                )
                % {"amount": money_text(self.coming)}
            )
        if self.kept > 0:
            said.append(
                _(
                    "The practice keeps %(amount)s, as its policy for late cancels and absences "
                    "says."
                )
                % {"amount": money_text(self.kept)}
            )
        return said


def ledger(reservation, now=None):
    """The Ledger of one session (three queries at most: its payments and refunds, its checkout
    or policy while it is held for payment; none for a session known to have no payments and
    not held for one)."""
    now = now or timezone.now()
    account = Ledger(reservation)
    payments = []
    # Asked only when it may have some (follow.with_payments annotates whether it has).
    if getattr(reservation, "has_payments", True):
        payments = list(
            Payment.objects.filter(reservation=reservation, status__in=RECEIVED)
            .prefetch_related("refunds")
            .order_by("created_at", "id")
        )
    for p in payments:
        account.payments.append(p)
        account.paid += p.amount
        account.refunded += p.amount_refunded
        for refund in p.refunds.all():
            account.refunds.append(refund)
            if refund.status in OPEN_REFUNDS:
                account.coming += refund.amount
    if (
        reservation.held_for_payment
        and not payments
        and reservation.expires_at
        and reservation.expires_at > now
    ):
        account.due = amount_to_pay(reservation)
    return account


def ledgers(rows, now=None, checkouts_joined=False):
    """{pk: Ledger} for each of `rows` (a list of sessions, their professionals' policies joined:
    booking.POLICY through "professional__"), as ledger() makes them but in two queries for them
    all at most, whatever their number: their payments received, with what is on its way back
    summed per payment; and, only when some are held for payment, their checkouts (each Ledger's
    `checkout`: the amount asked, where to pay), unless the rows come with them joined
    (`checkouts_joined`: select_related("checkout"))."""
    now = now or timezone.now()
    accounts = {r.pk: Ledger(r) for r in rows}
    if not accounts:
        return accounts
    on_its_way = (
        Refund.objects.filter(payment=OuterRef("pk"), status__in=OPEN_REFUNDS)
        .order_by()
        .values("payment")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    received = (
        Payment.objects.filter(reservation_id__in=list(accounts), status__in=RECEIVED)
        .annotate(coming=Subquery(on_its_way))
        .order_by("created_at", "id")
    )
    for p in received:
        account = accounts[p.reservation_id]
        account.payments.append(p)
        account.paid += p.amount
        account.refunded += p.amount_refunded
        account.coming += p.coming or ZERO
    held = [r for r in rows if r.held_for_payment]
    checkouts = {}
    if held and checkouts_joined:
        checkouts = {r.pk: _checkout_of(r) for r in held}
    elif held:
        checkouts = {c.reservation_id: c for c in Checkout.objects.filter(reservation__in=held)}
    for r in held:
        account = accounts[r.pk]
        account.checkout = checkouts.get(r.pk)
        if account.paid or r.expires_at is None or r.expires_at <= now:
            continue
        if account.checkout is not None:
            account.due = account.checkout.amount
        else:
            policy = policy_of(r.professional)
            account.due = policy.amount_due(r.session_modality) if policy else ZERO
    return accounts


def _checkout_of(reservation):
    try:
        return reservation.checkout
    except Checkout.DoesNotExist:
        return None


def amount_to_pay(reservation):
    """What paying for this held session costs: what a payment for it must be
    (rules.amount_asked), ZERO when nothing is asked."""
    asked = rules.amount_asked(reservation)
    return asked[0] if asked else ZERO


def message_context(sender, reservation, row, **kwargs):
    """notifications.emails.message_context: the money lines of a message to the patient, and
    for a refund's message how much and why."""
    from notifications.models import Kind

    extra = {"money": ledger(reservation).lines()}
    if row.kind == Kind.REFUNDED:
        refund = (
            reservation.payments.filter(refunds__isnull=False)
            .values_list("refunds__amount", "refunds__reason")
            .order_by("-refunds__created_at")
            .first()
        )
        event = reservation.events.filter(action_id=row.action_id, action="refunded").first()
        amount = ZERO
        if event is not None:
            old, new = event.changes.get("refunded", ["0", "0"])
            amount = Decimal(new) - Decimal(old)
        extra["refund_amount"] = money_text(amount)
        extra["refund_reason"] = rules.refund_reason_text(refund[1]) if refund else ""
        extra["money"] = []  # the message is the refund itself
    return extra


def policy_lines(policy, notice_hours):
    """What booking costs with `policy`, said before the patient picks a time: the price, what
    is paid now, and what a late cancel or an absence keeps. [] when there is no price."""
    if policy is None:
        return []
    from reservations.models import Modality

    from .models import Collect, LateKeeps

    prices = {m: policy.price_for(m) for m in (Modality.VIRTUAL, Modality.IN_PERSON)}
    if len(set(prices.values())) == 1:
        said = [_("A session costs %(price)s.") % {"price": money_text(policy.price_for(None))}]
    else:
        said = [
            _("A virtual session costs %(virtual)s; in person, %(in_person)s.")
            % {
                "virtual": money_text(prices[Modality.VIRTUAL]),
                "in_person": money_text(prices[Modality.IN_PERSON]),
            }
        ]
    if policy.collect == Collect.NONE:
        return said
    if policy.collect == Collect.WHOLE:
        said.append(_("You pay it when booking, with Mercado Pago."))
    else:
        deposit = policy.deposit_for(None)
        said.append(
            _("To book, you pay a deposit of %(amount)s with Mercado Pago.")
            % {"amount": money_text(deposit)}
        )
    everything = _("Cancel at least %(hours)s h before and you get everything back.")
    said.append(everything % {"hours": notice_hours})
    if policy.late_keeps == LateKeeps.DEPOSIT:
        said.append(_("Cancelled later or missed, the practice keeps the deposit."))
    elif policy.late_keeps == LateKeeps.EVERYTHING:
        said.append(_("Cancelled later or missed, the practice keeps what you paid."))
    return said
