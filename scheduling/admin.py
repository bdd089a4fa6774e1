from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from reservations.actions import Actor
from reservations.admin import ProfessionalFilter, overlap_message
from reservations.admin import ReservationAdmin as BaseReservationAdmin
from reservations.models import Refusal, Reservation

from .booking import book_for_patient
from .forms import StaffBookingForm
from .models import ScheduleChange, TimeOff, WorkingHours, delete_schedule, save_schedule


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


@admin.register(TimeOff)
class TimeOffAdmin(ScheduleAdmin):
    list_display = ("professional", "start", "end", "reason")
    list_filter = (ProfessionalFilter, "start")
    list_select_related = ("professional__professional_profile",)
    date_hierarchy = "start"


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


# Reception books a session in one step: the reservation's add page. Here rather than in
# reservations/admin.py, because the booking's rules (free slots, hours) build on the core. The
# change page stays the core's.

admin.site.unregister(Reservation)


@admin.register(Reservation)
class ReservationAdmin(BaseReservationAdmin):
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
