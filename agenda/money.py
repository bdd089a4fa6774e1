"""A session's money as its professional reads it in the agenda: one short phrase per session
("Paid $ 3.000,00", "Waiting for payment"), and what their sessions of this month brought in.

payments.ledger.ledger() reads one session (up to three queries); a list of sessions gets its
Ledgers from payments.ledger.ledgers(), one query for all of them (their checkouts and policies
joined to the sessions' own query: WITH_MONEY)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import DecimalField, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from payments.ledger import ledger, ledgers, money_text
from payments.models import MONEY_DIGITS, RECEIVED, ZERO, Payment

# What a list of sessions joins in its own query so that the amount due of a held one needs no
# query of its own: the checkout made when its patient went to pay, and the policy it was held by.
WITH_MONEY = ("checkout", "professional__payment_policy")

AMOUNT = DecimalField(max_digits=MONEY_DIGITS, decimal_places=2)


@dataclass(frozen=True)
class Money:
    """What the agenda shows of a session's money: `kind` for its style ("waiting", "paid",
    "partly_refunded", "refunded"), `text` for people."""

    kind: str
    text: str

    def __bool__(self):
        return bool(self.text)


NOTHING = Money("", "")


def money_of(account):
    """The short phrase for a session's Ledger (payments.ledger)."""
    r = account.reservation
    status = account.status
    if status == "paid":
        return Money("paid", _("Paid %(amount)s") % {"amount": money_text(account.paid)})
    if status == "partly_refunded":
        back = account.refunded + account.coming
        text = _("Paid %(amount)s, %(back)s refunded") % {
            "amount": money_text(account.paid),
            "back": money_text(back),
        }
        return Money("partly_refunded", text)
    if status == "refunded":
        return Money("refunded", _("Refunded %(amount)s") % {"amount": money_text(account.paid)})
    # Held and unpaid, its amount due or its hold just lapsed (the worker cancels it soon).
    if status == "due" or r.held_for_payment:
        return Money("waiting", _("Waiting for payment"))
    return NOTHING


def attach(sessions, now):
    """Sets `money` (a Money) on each of `sessions` (fetched with select_related(*WITH_MONEY)),
    in one query for them all, however many there are (payments.ledger.ledgers)."""
    sessions = list(sessions)
    accounts = ledgers(sessions, now, checkouts_joined=True)
    for r in sessions:
        r.money = money_of(accounts[r.pk])


def attach_one(r, now):
    """`money` on a single session (an action's answer, its page): payments.ledger as it is.
    Returns its Ledger."""
    account = ledger(r, now)
    r.money = money_of(account)
    return account


def details(account):
    """The session page's lines under its money: each payment (amount, how, when), what is on its
    way back, and what the practice keeps of a session cancelled late or missed."""
    said = [
        " · ".join(
            (
                money_text(p.amount),
                str(p.get_method_display()),
                formats.date_format(timezone.localtime(p.created_at), "SHORT_DATE_FORMAT"),
            )
        )
        for p in account.payments
    ]
    if account.coming:
        said.append(_("Being refunded: %(amount)s") % {"amount": money_text(account.coming)})
    if account.kept > 0:
        said.append(_("The practice keeps %(amount)s") % {"amount": money_text(account.kept)})
    return said


def month_bounds(now):
    """The first and last instants of the month `now` is in, in the practice's zone
    (settings.TIME_ZONE): the month its books close on, whoever looks."""
    zone = timezone.get_default_timezone()
    today = timezone.localdate(now, zone)
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(following, time.min, tzinfo=zone),
    )


@dataclass(frozen=True)
class MonthTotal:
    first: date  # the month's first day (a date: its name must not move with the viewer's zone)
    received: Decimal
    refunded: Decimal

    @property
    def paid(self):
        return self.received - self.refunded

    @property
    def paid_text(self):
        return money_text(self.paid)


def month_total(professional, now):
    """What the professional's sessions starting this month (practice zone) were paid: received
    minus refunded, in one aggregate query. Refunds on their way back still count as paid until
    they are made."""
    start, end = month_bounds(now)
    totals = Payment.objects.filter(
        reservation__professional=professional,
        reservation__start_time__gte=start,
        reservation__start_time__lt=end,
        status__in=RECEIVED,
    ).aggregate(
        received=Sum("amount", default=ZERO),
        refunded=Sum("amount_refunded", default=ZERO),
    )
    return MonthTotal(
        timezone.localdate(start, start.tzinfo), totals["received"], totals["refunded"]
    )
