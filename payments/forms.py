"""Reception's two forms about money in the admin: a refund (how much, why) and a session paid by
other means (how much, how, a note). They only read and check what was typed; the rules
(payments/rules.py) decide and write."""

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .ledger import money_text
from .models import CENT, MONEY_DIGITS, Method, Payment, Refund

KEY = re.compile(r"^[0-9a-f]{32}$")


def amount_field(**kwargs):
    # Zero and negative amounts are refused here, before anything is written.
    return forms.DecimalField(
        label=_("Amount"), max_digits=MONEY_DIGITS, decimal_places=2, min_value=CENT, **kwargs
    )


class RefundForm(forms.Form):
    """A refund of one payment. `key` is made when the form is shown and sent back with it: a
    second submit of the same form is the same refund (rules.refund's idempotency key), made
    once."""

    amount = amount_field()
    reason = forms.CharField(
        label=_("Reason"),
        max_length=Refund._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The patient reads it with the refund."),
    )
    key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, left, **kwargs):
        self.left = left
        kwargs.setdefault("initial", {"amount": left, "key": new_key()})
        super().__init__(*args, **kwargs)

    def clean_key(self):
        key = self.cleaned_data["key"]
        if not KEY.match(key):
            raise ValidationError(_("The form is not as it was shown: open it again."))
        return key

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount > self.left:
            raise ValidationError(
                _("At most %(left)s is left to refund.") % {"left": money_text(self.left)}
            )
        return amount


def new_key():
    return uuid.uuid4().hex


class PaidByHandForm(forms.Form):
    """A session paid by other means than Mercado Pago: how much, how, and a note."""

    amount = amount_field()
    method = forms.ChoiceField(
        label=_("Paid by"),
        choices=[(m.value, m.label) for m in (Method.CASH, Method.TRANSFER)],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=Payment._meta.get_field("note").max_length,
        required=False,
        help_text=_("A receipt or transfer number, say. Only the practice reads it."),
    )
