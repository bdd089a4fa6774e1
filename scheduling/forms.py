"""The scheduling forms both doors use.

The absence form (the agenda's hours page and the admin): the time off itself, then, when sessions
fall inside it, the list and what to do with them (scheduling/absences.py). Two steps with one
form: the first post shows the list (an error, so nothing is saved), the second carries the ids
the person saw and their decision.

Reception books a session in one step (the admin's "add reservation"): a patient, a
professional, a day, and one of the professional's free times that day or a time and a length
typed in; booked by scheduling.booking.book_for_patient, CONFIRMED unless reception says
otherwise. The free times are computed for the professional, day and patient the form holds: when
the page is shown (its "Show free times" button sends the form back to be shown again, so no
JavaScript is needed) and again on the POST that books, where a time taken meanwhile is no longer
a valid choice."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from reservations.models import REASON_MAX_LENGTH, Modality, Status

from .absences import Decision, save_absence, session_ids, sessions_inside
from .booking import UNAVAILABLE
from .models import HoursModality, TimeOff, WorkingHours, within_reach
from .slots import free_slots


def session_line(reservation):
    """One session of the list, as the reader reads it (their zone): when, and with whom."""
    start = timezone.localtime(reservation.start_time)
    end = timezone.localtime(reservation.end_time)
    return f"{start:%d/%m/%Y %H:%M}–{end:%H:%M} · {reservation.client.name}"


class AbsenceForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label=_("The sessions inside it"),
        choices=Decision.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Asked only when sessions fall inside the absence."),
    )
    message = forms.CharField(
        label=_("Message to the patients"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Each patient reads it with their cancelled session."),
    )
    # The ids of the sessions the person was shown: a decision applies to those only.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = TimeOff
        fields = ["professional", "start", "end", "reason"]

    # The sessions inside the absence, once clean() has looked (empty: nothing to decide).
    inside = ()

    def absence_professional(self):
        return self.cleaned_data.get("professional") or getattr(self.instance, "professional", None)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        professional = self.absence_professional()
        if self.errors or professional is None or not (start and end) or end <= start:
            return data
        try:
            # Far from our years, the query's times overflow; the model's validation says so.
            within_reach(start)
            within_reach(end)
        except ValidationError:
            return data
        self.inside = sessions_inside(professional, start, end, timezone.now())
        if not self.inside:
            return data
        shown = session_ids(self.inside)
        if data.get("seen") != shown:
            self.show(self.inside)
        elif not data.get("decision"):
            self.add_error("decision", _("Choose whether to cancel these sessions or keep them."))
        elif data["decision"] == Decision.CANCEL and not data.get("message", "").strip():
            self.add_error("message", _("Write the message the patients will read."))
        return data

    def show(self, sessions):
        """List `sessions` (the error that keeps the absence from being saved) and carry their
        ids for the next post."""
        self.inside = sessions
        self.data = self.data.copy()
        self.data[self.add_prefix("seen")] = session_ids(sessions)
        count = len(sessions)
        heading = ngettext(
            "%(n)d session falls inside this absence. Cancel it or keep it, then save again.",
            "%(n)d sessions fall inside this absence. Cancel them or keep them, then save again.",
            count,
        ) % {"n": count}
        self.add_error(None, ValidationError([heading, *map(session_line, sessions)]))

    def save_absence(self, *, by):
        """Save the absence as `by`, doing what the person decided with the sessions inside.
        Returns the sessions cancelled. Raises SessionsInside when the list changed since they
        saw it (call show() with its sessions to ask again)."""
        data = self.cleaned_data
        return save_absence(
            self.save(commit=False),
            by=by,
            decision=data.get("decision", ""),
            reason=data.get("message", ""),
            seen=[pk for pk in data.get("seen", "").split(",") if pk],
        )


# Reception books a session in one step.

# Without working hours to say it, a session lasts this long.
DEFAULT_MINUTES = 45


def session_minutes(professional, day=None):
    """The session length of `professional`'s working hours on `day`'s weekday (their most usual
    one otherwise, should their days differ), else DEFAULT_MINUTES."""
    lengths = Counter()
    for weekday, minutes in WorkingHours.objects.filter(professional=professional).values_list(
        "weekday", "session_minutes"
    ):
        # That day's ranges count before any other day's.
        lengths[minutes] += 1000 if day is not None and weekday == day.weekday() else 1
    return lengths.most_common(1)[0][0] if lengths else DEFAULT_MINUTES


def _modalities_text(modalities):
    if len(modalities) > 1:
        return HoursModality.BOTH.label
    return Modality(modalities[0]).label


class StaffBookingForm(forms.Form):
    client = forms.ModelChoiceField(label=capfirst(_("patient")), queryset=User.objects.all())
    professional = forms.ModelChoiceField(
        label=capfirst(_("professional")), queryset=User.objects.none()
    )
    day = forms.DateField(
        label=capfirst(_("day")),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Days and times are the professional's (their time zone)."),
    )
    slot = forms.ChoiceField(
        label=capfirst(_("free time")),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": UNAVAILABLE},
    )
    start = forms.TimeField(
        label=capfirst(_("or another time")),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Instead of a free time: any start, with the length below."),
    )
    minutes = forms.IntegerField(
        label=capfirst(_("length (minutes)")),
        required=False,
        min_value=5,
        max_value=8 * 60,
        help_text=_("Empty: the session length of the professional's working hours."),
    )
    session_modality = forms.ChoiceField(
        label=capfirst(_("modality")),
        required=False,
        choices=[("", _("As their hours offer it")), *Modality.choices],
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        choices=[
            (Status.CONFIRMED.value, Status.CONFIRMED.label),
            (Status.PENDING.value, Status.PENDING.label),
        ],
        initial=Status.CONFIRMED,
        help_text=_("Pending: the professional confirms it."),
    )
    override = forms.BooleanField(
        label=_("Book anyway, outside the hours or on a closed day"),
        required=False,
        help_text=_("Only for a time outside the professional's hours or on their time off."),
    )

    def __init__(self, *args, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        field = self.fields["professional"]
        field.queryset = User.objects.filter(professional_profile__isnull=False).select_related(
            "professional_profile"
        )
        field.label_from_instance = lambda user: user.display_name
        self.slots = self._free_slots()
        zone = self.chosen_professional.zone if self.slots else None
        self.fields["slot"].choices = [
            (
                slot.start.isoformat(),
                f"{slot.start.astimezone(zone):%H:%M}–{slot.end.astimezone(zone):%H:%M} · "
                f"{_modalities_text(slot.modalities)}",
            )
            for slot in self.slots
        ]

    def _value(self, name):
        """What the form holds for `name`, sent or initial, as the field cleans it; or None."""
        field = self.fields[name]
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        if raw in (None, ""):
            return None
        try:
            return field.clean(raw)
        except forms.ValidationError:
            return None

    def _free_slots(self):
        """The professional's free times on the day, for the patient (their own sessions block
        too), with no lead time: the practice books."""
        self.chosen_professional = self._value("professional")
        self.chosen_day = self._value("day")
        if self.chosen_professional is None or self.chosen_day is None:
            return []
        return free_slots(
            self.chosen_professional,
            self.chosen_day,
            self.chosen_day,
            now=self.now,
            patient=self._value("client"),
            lead=False,
        )

    def clean(self):
        data = super().clean()
        professional, day = data.get("professional"), data.get("day")
        if professional is None or day is None:
            return data
        slot, start = data.get("slot"), data.get("start")
        if slot and start:
            raise forms.ValidationError(_("Choose a free time or type another one, not both."))
        if slot:
            chosen = next(s for s in self.slots if s.start.isoformat() == slot)
            data["start_time"], data["end_time"] = chosen.start, chosen.end
        elif start:
            minutes = data.get("minutes") or session_minutes(professional, day)
            local = datetime.combine(day, start, tzinfo=professional.zone)
            data["start_time"] = local.astimezone(UTC)
            data["end_time"] = data["start_time"] + timedelta(minutes=minutes)
        else:
            raise forms.ValidationError(_("Choose a free time, or type another time."))
        return data
