"""The forms a series is made and changed with, shared by the admin and the professional's agenda
(which leaves out the professional: it is the one signed in)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.models import Weekday

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
