from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import ProfessionalProfile
from scheduling.models import TimeOff, WorkingHours

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
        self.fields["session_minutes"].validators.append(MinValueValidator(1))
        self.fields["session_minutes"].widget.attrs["min"] = 1

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


class TimeOffForm(forms.ModelForm):
    """An absence; its start and end are read in the professional's zone (the current one)."""

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
