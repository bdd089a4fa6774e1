from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import ProfessionalProfile, User
from payments.models import PaymentPolicy, money
from reservations.models import Reservation
from scheduling.forms import AbsenceForm
from scheduling.models import TimeOff, WorkingHours
from series.forms import FORM_FIELDS, MoveForm, session_minutes_for
from series.models import Series

# A week: more notice than that would leave patients no sensible way to cancel online.
MAX_NOTICE_HOURS = 168
NOTES_MAX_LENGTH = 10_000


def _formfield(field, **kwargs):
    # A link typed without its scheme is an https one (Django 6's default, said now).
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ProfileForm(forms.ModelForm):
    """What a professional sets about themselves. The photo stays with the practice (admin)."""

    class Meta:
        model = ProfessionalProfile
        formfield_callback = _formfield
        fields = [
            "display_name",
            "specialty",
            "phone",
            "whatsapp",
            "contact_email",
            "address",
            "video_url",
            "cancellation_notice_hours",
            "requires_approval",
            "reminder_hours",
            "booking_emails",
            "daily_summary",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        notice = self.fields["cancellation_notice_hours"]
        notice.validators.append(MaxValueValidator(MAX_NOTICE_HOURS))
        notice.widget.attrs.update(min=0, max=MAX_NOTICE_HOURS)
        notice.help_text = _(
            "How long before a session a patient may still cancel it online: 0 to 168 hours."
        )
        self.fields["phone"].widget.attrs.update(type="tel", autocomplete="tel")
        self.fields["whatsapp"].widget.attrs.update(type="tel")


class PaymentPolicyForm(forms.ModelForm):
    """The professional's own price and what is paid online when booking. Whose policy it is
    comes from the view (the one signed in), never from the form; PaymentPolicy.clean() decides
    which combinations add up (a deposit is a percentage or an amount; keeping the deposit needs
    one), and the form shows its errors by their fields. The currency is the account's."""

    class Meta:
        model = PaymentPolicy
        fields = [
            "price",
            "price_virtual",
            "price_in_person",
            "collect",
            "deposit_percent",
            "deposit_amount",
            "late_keeps",
        ]

    def __init__(self, *args, professional, **kwargs):
        instance = PaymentPolicy.objects.filter(professional=professional).first()
        self.created = instance is None
        if instance is None:
            instance = PaymentPolicy(professional=professional)
        super().__init__(*args, instance=instance, **kwargs)
        # Validating writes the new values into the instance: what is stored, kept apart.
        self.stored = {name: getattr(instance, name) for name in self.Meta.fields}
        for name in ("price", "price_virtual", "price_in_person", "deposit_amount"):
            self.fields[name].widget.attrs.update(min="0.01", step="0.01", inputmode="decimal")
        self.fields["deposit_percent"].widget.attrs.update(min=1, max=100)

    def changes(self):
        """{"payment_policy.field": [old, new]} of what saving would change (every field, the
        first time), as the profile's changes are recorded (ProfileChange)."""
        return {
            f"payment_policy.{name}": [
                None if self.created else _text(old),
                _text(self.cleaned_data[name]),
            ]
            for name, old in self.stored.items()
            if self.created or old != self.cleaned_data[name]
        }


def _text(value):
    # Amounts as stored, with their two places ("10000.00", not the "10000" typed).
    if isinstance(value, Decimal):
        return str(money(value))
    return None if value is None else str(value)


class NotesForm(forms.Form):
    # Django's CharField refuses NUL characters, which PostgreSQL text cannot hold.
    notes = forms.CharField(required=False, max_length=NOTES_MAX_LENGTH)


class WorkingHoursForm(forms.ModelForm):
    """One range of the professional's week. The professional is the one signed in (the view
    gives it); ranges of the same weekday must not overlap, which the admin does not check."""

    class Meta:
        model = WorkingHours
        fields = [
            "weekday",
            "start_time",
            "end_time",
            "modality",
            "session_minutes",
            "buffer_minutes",
            "min_lead_hours",
            "horizon_weeks",
        ]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, professional, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.professional = professional

    def clean(self):
        data = super().clean()
        start, end, weekday = data.get("start_time"), data.get("end_time"), data.get("weekday")
        if start is None or end is None or weekday is None:
            return data
        if end <= start:
            self.add_error("end_time", _("The range must end after it starts."))
            return data
        overlapping = WorkingHours.objects.filter(
            professional=self.instance.professional,
            weekday=weekday,
            start_time__lt=end,
            end_time__gt=start,
        ).exclude(pk=self.instance.pk)
        if overlapping.exists():
            raise forms.ValidationError(
                _("It overlaps another range of the same day: change that one first.")
            )
        return data


class TimeOffForm(AbsenceForm):
    """An absence; its start and end are read in the professional's zone (the current one). The
    sessions inside it are listed, then cancelled or kept as the professional decides
    (scheduling/forms.py)."""

    class Meta:
        model = TimeOff
        fields = ["start", "end", "reason"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, professional, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.professional = professional

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end <= start:
            self.add_error("end", _("The time off must end after it starts."))
        return data


def patients_of(professional):
    """The people with at least one session with this professional, cancelled ones included:
    the only patients their agenda may put in a series."""
    return (
        User.objects.filter(
            pk__in=Reservation.objects.filter(professional=professional).values("client_id")
        )
        .exclude(pk=professional.pk)
        .order_by("first_name", "last_name", "email")
    )


class SeriesForm(forms.ModelForm):
    """A weekly series made from the agenda. The professional is the one signed in, never a
    field; the patient is one of theirs, and anyone else is "not one of the choices", exactly
    like an id that does not exist."""

    class Meta:
        model = Series
        fields = [name for name in FORM_FIELDS if name != "professional"]
        widgets = {
            "local_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {"local_time": _("In your time zone.")}

    def __init__(self, *args, professional, **kwargs):
        super().__init__(*args, **kwargs)
        self.professional = self.instance.professional = professional
        if "minutes" not in (kwargs.get("initial") or {}):
            # As long as the sessions their hours offer, not the model's 50.
            self.initial["minutes"] = session_minutes_for(professional)
        client = self.fields["client"]
        client.queryset = patients_of(professional)
        client.label_from_instance = _patient_choice
        client.empty_label = _("Choose a patient")
        # The model's bounds, for the browser to say before the server does.
        self.fields["minutes"].widget.attrs.update(min=5, max=480)
        self.fields["interval_weeks"].widget.attrs.update(min=1, max=12)
        self.fields["count"].widget.attrs["min"] = 1

    def series_fields(self):
        """What preview_series and create_series take."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        return {**fields, "professional": self.professional}


def _patient_choice(user):
    name = user.get_full_name()
    return f"{name} · {user.email}" if name else user.email


class SeriesMoveForm(MoveForm):
    """The admin's move form, said to the professional: the time is in their own zone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["local_time"].help_text = _("In your time zone.")
