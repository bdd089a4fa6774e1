"""The forms a series is made and changed with, shared by the admin and the professional's agenda
(which leaves out the professional: it is the one signed in)."""

from collections import Counter

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.models import Weekday, WorkingHours

from .models import Series

# What a person fills in to create a series.
FORM_FIELDS = [
    "client",
    "professional",
    "weekday",
    "local_time",
    "minutes",
    "session_modality",
    "interval_weeks",
    "starts_on",
    "ends_on",
    "count",
]


def session_minutes_for(professional):
    """A new series' session length: the one of the professional's working hours (the most
    usual, should their days differ), else the model's default."""
    lengths = Counter(
        WorkingHours.objects.filter(professional=professional).values_list(
            "session_minutes", flat=True
        )
    )
    if lengths:
        return lengths.most_common(1)[0][0]
    return Series._meta.get_field("minutes").default


def minutes_from_hours(form):
    """The admin's add form, where the professional is a field: an empty length is theirs."""
    field = form.fields["minutes"]
    field.required, field.initial = False, None
    form.initial.pop("minutes", None)
    field.help_text = _("Empty: the session length of the professional's working hours.")


class MoveForm(forms.Form):
    """The new rule of "change the time of this and later sessions"."""

    weekday = forms.TypedChoiceField(label=_("weekday"), choices=Weekday.choices, coerce=int)
    local_time = forms.TimeField(
        label=_("time"),
        help_text=_("In the professional's time zone."),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    minutes = forms.IntegerField(label=_("session length (minutes)"), min_value=5, max_value=480)

    @staticmethod
    def initial_for(series):
        return {
            "weekday": series.weekday,
            "local_time": series.local_time,
            "minutes": series.minutes,
        }
