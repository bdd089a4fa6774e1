"""Hours, absences and the practice's closures in the admin. An absence over booked sessions
lists them first and cancels or keeps them as the person decides (scheduling/absences.py), from
its own form and from reception's "Cancel a professional's sessions", which records the days as
the professional's absence so nobody books them again. Reception also books a session in one
step here (the reservation's add page)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin import require_recent_authentication
from accounts.models import User
from reservations.actions import Actor
from reservations.admin import (
    CancelForm,
    ProfessionalFilter,
    cancelled_message,
    overlap_message,
    professionals,
    when_text,
)
from reservations.admin import ReservationAdmin as BaseReservationAdmin
from reservations.models import Lateness, Refusal, Reservation

from .absences import Decision, SessionsInside, cancelled_text, save_absence, sessions_inside
from .booking import book_for_patient
from .forms import AbsenceForm, StaffBookingForm
from .models import (
    Closure,
    ScheduleChange,
    TimeOff,
    WorkingHours,
    delete_schedule,
    save_schedule,
)


class ScheduleAdmin(admin.ModelAdmin):
    """Hours and time off: the professional field lists professionals only (users with a
    professional profile), not every patient; every save and delete is recorded
    (ScheduleChange)."""

    def save_model(self, request, obj, form, change):
        save_schedule(obj, by=Actor.staff(request.user))

    def delete_model(self, request, obj):
        delete_schedule(obj, by=Actor.staff(request.user))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            delete_schedule(obj, by=Actor.staff(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "professional":
            kwargs["queryset"] = User.objects.filter(
                professional_profile__isnull=False
            ).select_related("professional_profile")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WorkingHours)
class WorkingHoursAdmin(ScheduleAdmin):
    list_display = (
        "professional",
        "weekday",
        "start_time",
        "end_time",
        "modality",
        "session_minutes",
        "buffer_minutes",
    )
    list_filter = (ProfessionalFilter, "weekday", "modality")
    list_select_related = ("professional__professional_profile",)
    fields = (
        "professional",
        "weekday",
        ("start_time", "end_time"),
        "modality",
        ("session_minutes", "buffer_minutes"),
        ("min_lead_hours", "horizon_weeks"),
    )


class SessionsChanged(Exception):
    """The sessions inside an absence changed between the form's check and the save."""


@admin.register(TimeOff)
class TimeOffAdmin(ScheduleAdmin):
    """An absence. Sessions inside it are listed when it is saved (the form comes back with
    them) and are cancelled or kept only as the person then ticks."""

    form = AbsenceForm
    list_display = ("professional", "start", "end", "reason")
    list_filter = (ProfessionalFilter, "start")
    list_select_related = ("professional__professional_profile",)
    date_hierarchy = "start"
    fieldsets = (
        (None, {"fields": ("professional", ("start", "end"), "reason")}),
        (_("Sessions inside the absence"), {"fields": ("decision", "message", "seen")}),
    )

    def save_model(self, request, obj, form, change):
        try:
            cancelled = form.save_absence(by=Actor.staff(request.user))
        except SessionsInside as exc:
            raise SessionsChanged from exc
        if cancelled:
            self.message_user(request, cancelled_text(cancelled), messages.SUCCESS)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except SessionsChanged:
            # Booked or cancelled between the check and the save: nothing was saved.
            self.message_user(
                request,
                gettext("The sessions inside the absence changed meanwhile: add it again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    """The practice's own closures (summer holidays): no slot on those days for anyone, and a new
    series skips them. National holidays need no row: PRACTICE_HOLIDAYS."""

    list_display = ("name", "first_day", "last_day")
    date_hierarchy = "first_day"
    search_fields = ("name",)


@admin.register(ScheduleChange)
class ScheduleChangeAdmin(admin.ModelAdmin):
    """What happened to hours and time off: read-only, never deleted."""

    list_display = ("at", "professional", "model", "what", "actor", "channel")
    list_filter = (ProfessionalFilter, "model", "what", "channel")
    list_select_related = ("professional__professional_profile", "actor")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in ScheduleChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Reception's "Cancel a professional's sessions": the days become the professional's absence.


class RangeCancelForm(CancelForm):
    professional = forms.ModelChoiceField(label=_("Professional"), queryset=User.objects.none())
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    field_order = ["professional", "start", "end", "reason"]

    # A year at most: a longer range is a mistake, and its list would not fit on a page.
    MAX_DAYS = 366

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["professional"]
        field.queryset = professionals().order_by("professional_profile__display_name", "email")
        field.label_from_instance = lambda user: user.display_name

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("The last day must not be before the first."))
            if (end - start).days >= self.MAX_DAYS:
                raise ValidationError(_("Choose at most a year."))
            # Sessions are booked up to a year ahead; far beyond, the dates overflow.
            if end > timezone.localdate() + timedelta(days=2 * self.MAX_DAYS):
                raise ValidationError(_("Choose days within two years of today."))
        return data

    def absence(self):
        """The days as the professional's absence (unsaved): from the first day's midnight to the
        one after the last, in the professional's zone (their days, whoever types them)."""
        data = self.cleaned_data
        professional = data["professional"]
        zone = ZoneInfo(professional.time_zone)
        return TimeOff(
            professional=professional,
            start=datetime.combine(data["start"], time(), tzinfo=zone),
            end=datetime.combine(data["end"] + timedelta(days=1), time(), tzinfo=zone),
            reason=data["reason"][: TimeOff._meta.get_field("reason").max_length],
        )


# Reception books a session in one step: the reservation's add page, and cancels a
# professional's days (the page above). Here rather than in reservations/admin.py, because the
# booking's rules (free slots, hours) and absences build on the core. The change page stays the
# core's.

admin.site.unregister(Reservation)


@admin.register(Reservation)
class ReservationAdmin(BaseReservationAdmin):
    """Reservations, with reception's one-step booking and its page for a professional's
    days away."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "cancel-range/",
                self.admin_site.admin_view(self.cancel_range_view),
                name=f"{info}_cancel_range",
            ),
            *super().get_urls(),
        ]

    def cancel_range_view(self, request):
        """A professional is ill or away: the days, then the sessions inside them, then one step
        that records the days as their absence (nothing is booked in them again) and cancels those
        sessions with one reason, each patient told once (scheduling/absences.py)."""
        if not (
            self.has_change_permission(request) and request.user.has_perm("scheduling.add_timeoff")
        ):
            raise PermissionDenied
        form = RangeCancelForm(request.POST if request.method == "POST" else None)
        sessions = None
        if form.is_bound and form.is_valid():
            now = timezone.now()
            absence = form.absence()
            sessions = sessions_inside(absence.professional, absence.start, absence.end, now)
            if "confirm" in request.POST:
                require_recent_authentication(request)  # asks for the password again
                try:
                    cancelled = save_absence(
                        absence,
                        by=Actor.staff(request.user),
                        decision=Decision.CANCEL,
                        reason=form.cleaned_data["reason"],
                        # Only what was shown: a session booked since is listed again, not left.
                        seen=request.POST.getlist("session"),
                        now=now,
                    )
                except SessionsInside as exc:
                    sessions = exc.sessions
                    self.message_user(
                        request,
                        gettext("The sessions changed since you saw them: check them again."),
                        messages.WARNING,
                    )
                else:
                    self._range_done(request, absence, cancelled)
                    url = reverse("admin:reservations_reservation_changelist")
                    professional = absence.professional_id
                    if cancelled:
                        return HttpResponseRedirect(f"{url}?professional={professional}&when=all")
                    return HttpResponseRedirect(url)
            sessions = [(r, when_text(r)) for r in sessions]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel a professional's sessions"),
            "opts": self.opts,
            "form": form,
            "sessions": sessions,
        }
        return TemplateResponse(
            request, "admin/reservations/reservation/cancel_range.html", context
        )

    def _range_done(self, request, absence, cancelled):
        done = len(cancelled)
        late = sum(r.late_cancellation != Lateness.ON_TIME for r in cancelled)
        message = cancelled_message(done, late)
        message += " " + gettext("The days are recorded as the professional's absence.")
        self.message_user(request, message, messages.SUCCESS)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        now = timezone.now()
        # "Show free times" sends the form, which comes back with what it held and the free
        # times, unchecked; a GET may name them too (?professional=…&day=…).
        booking = request.method == "POST" and "_slots" not in request.POST
        if booking:
            form = StaffBookingForm(request.POST, now=now)
        else:
            held = request.POST if request.method == "POST" else request.GET
            form = StaffBookingForm(initial={"day": timezone.localdate(), **held.dict()}, now=now)
        # The patients are many: picked by typing, as on the change page.
        client = form.fields["client"]
        client.widget = AutocompleteSelect(Reservation._meta.get_field("client"), self.admin_site)
        client.widget.choices = client.choices
        if booking and form.is_valid():
            data = form.cleaned_data
            result = book_for_patient(
                data["client"],
                data["professional"],
                data["start_time"],
                data["end_time"],
                data["session_modality"] or None,
                by=Actor.staff(request.user),
                now=now,
                status=data["status"],
                override=data["override"],
            )
            if not isinstance(result, Refusal):
                self.message_user(
                    request,
                    gettext("The session was booked: %(patient)s with %(professional)s.")
                    % {
                        "patient": result.client.name,
                        "professional": result.professional.display_name,
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:reservations_reservation_change", args=[result.pk])
                )
            form.add_error(None, self._refusal_text(result, data))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Book a session for a patient"),
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "add": True,
        }
        return TemplateResponse(request, "admin/reservations/reservation/add_form.html", context)

    @staticmethod
    def _refusal_text(refusal, data):
        """What reception reads: for an overlap, which session is in the way, with its link."""
        if refusal.code == "overlap":
            clash = (
                Reservation(
                    client=data["client"],
                    professional=data["professional"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                )
                .overlapping()
                .select_related("client", "professional__professional_profile")
                .order_by("start_time")
                .first()
            )
            if clash is not None:
                return overlap_message(clash)
        return refusal.message
