"""Phone numbers: stored in E.164 (+5491155550101), read as people write them in the practice's
country (PHONENUMBER_DEFAULT_REGION, AR: "011 15 5555-0101"), shown in that country's own way, and
linked as tel: and wa.me want them.

Every field holding a phone is a PhoneField; every place that shows or links one calls text(),
tel_href() or whatsapp_href(). A value that is not a valid number (a row written before numbers
were checked, see migration accounts 0010) is shown as it was written and never linked.
"""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField as PhoneNumberFormField
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber, to_python

INVALID = _(
    "This is not a valid phone number. Write it with its area code, as you would dial it "
    "(011 15 5555-0101 for a mobile, 011 4555-0101 for a landline), or from abroad with + "
    "and the country code (+598 94 231 234)."
)


class PhoneFormField(PhoneNumberFormField):
    """The form field: a number as people write it, refused with INVALID when it is none."""

    def __init__(self, *args, **kwargs):
        kwargs["error_messages"] = {**(kwargs.get("error_messages") or {}), "invalid": INVALID}
        super().__init__(*args, **kwargs)
        self.widget.attrs.update(type="tel", autocomplete="tel")


class PhoneField(PhoneNumberField):
    """A phone number, stored in E.164, read with the practice's region. Give it default=""
    beside db_default="": the library's descriptor cannot hold Django's DatabaseDefault."""

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", PhoneFormField)
        return super().formfield(**kwargs)


def parse(value, region=None):
    """A PhoneNumber from a string (or a PhoneNumber); None when blank. May be invalid."""
    number = to_python(value, region=region or settings.PHONENUMBER_DEFAULT_REGION)
    return number or None


def valid(value):
    number = parse(value)
    return number if number is not None and number.is_valid() else None


def e164(value):
    """'011 15 5555-0101' -> '+5491155550101'; '' when blank or not a valid number."""
    number = valid(value)
    return number.as_e164 if number else ""


def stored(value):
    """A number as a string in E.164; one that is not valid as it was written; '' when blank."""
    number = parse(value)
    if number is None:
        return ""
    return number.as_e164 if number.is_valid() else (number.raw_input or str(number))


def text(value):
    """How a patient in the practice's country reads a number: the national format for a number
    of that country ('011 15-5555-0101', '011 4555-0101'), the international one for others
    ('+598 94 231 234'). A number that is not valid is shown as it was written."""
    number = parse(value)
    if number is None:
        return ""
    if not number.is_valid():
        return number.raw_input or str(number)
    if phonenumbers.region_code_for_number(number) == settings.PHONENUMBER_DEFAULT_REGION:
        return number.as_national
    return number.as_international


def tel_href(value):
    """'tel:+5491155550101'; '' when blank or not a valid number."""
    number = e164(value)
    return "tel:" + number if number else ""


def whatsapp_href(value):
    """'https://wa.me/5491155550101': wa.me takes the E.164 digits without the plus; '' when
    blank or not a valid number."""
    number = e164(value)
    return "https://wa.me/" + number.removeprefix("+") if number else ""


__all__ = ["INVALID", "PhoneField", "PhoneFormField", "PhoneNumber", "e164", "parse", "text"]
