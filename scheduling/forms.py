"""The absence form both doors use (the agenda's hours page and the admin): the time off itself,
then, when sessions fall inside it, the list and what to do with them (scheduling/absences.py).
Two steps with one form: the first post shows the list (an error, so nothing is saved), the second
carries the ids the person saw and their decision."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reservations.models import REASON_MAX_LENGTH

from .absences import Decision, save_absence, session_ids, sessions_inside
from .models import TimeOff, within_reach


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
