from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ACTIVE_STATUSES, OVERLAP_MESSAGE, Channel, Reservation, ReservationEvent, Status


class DoubleBooked(Exception):
    """A concurrent booking won the slot between the form's check and our write."""


class ProfessionalFilter(admin.SimpleListFilter):
    """Lists professionals only: a plain FK filter would list every patient too."""

    title = _("professional")
    parameter_name = "professional"

    def lookups(self, request, model_admin):
        from accounts.models import User

        professionals = User.objects.filter(professional_profile__isnull=False).select_related(
            "professional_profile"
        )
        return [(str(u.pk), u.display_name) for u in professionals]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(professional_id=self.value())
        return queryset


class ReservationEventInline(admin.TabularInline):
    model = ReservationEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "from_status", "to_status", "actor", "channel", "reason", "changes")
    readonly_fields = fields
    ordering = ("at",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ("start_time", "patient_name", "professional_name", "session_modality", "status")
    list_filter = ("status", "session_modality", ProfessionalFilter, "start_time")
    search_fields = (
        "client__email",
        "client__first_name",
        "client__last_name",
        "professional__email",
        "professional__first_name",
        "professional__last_name",
        "professional__professional_profile__display_name",
    )
    date_hierarchy = "start_time"
    autocomplete_fields = ("client", "professional")
    list_select_related = ("client", "professional__professional_profile")
    readonly_fields = ("id", "created_at", "cancelled_at", "cancelled_by", "cancellation_reason")
    fields = (
        "id",
        "client",
        "professional",
        "start_time",
        "end_time",
        "session_modality",
        "status",
        "created_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    )
    inlines = [ReservationEventInline]
    actions = ["confirm_selected", "cancel_selected"]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("patient"), ordering="client__last_name")
    def patient_name(self, obj):
        return obj.client.get_full_name() or obj.client.email

    @admin.display(description=_("professional"), ordering="professional__last_name")
    def professional_name(self, obj):
        return obj.professional.display_name

    def get_readonly_fields(self, request, obj=None):
        # Status changes go through the actions, which record who and when.
        if obj is not None:
            return (*self.readonly_fields, "status")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # Reservations are never deleted: cancel them.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DoubleBooked:
            # The form's own check passed, the database's did not: someone booked it meanwhile.
            self.message_user(request, OVERLAP_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        # The form has validated; the database's guard decides races (ValidationError then).
        try:
            if change:
                # Only what staff changed, so a patient's cancel written meanwhile is not undone.
                obj.change(form.changed_data, by=request.user, channel=Channel.ADMIN)
            else:
                obj.insert(by=request.user, channel=Channel.ADMIN)
        except ValidationError as exc:
            raise DoubleBooked from exc

    @admin.action(description=_("Confirm selected reservations"), permissions=["change"])
    def confirm_selected(self, request, queryset):
        done = sum(
            r.confirm(by=request.user, channel=Channel.ADMIN)
            for r in queryset.filter(status=Status.PENDING)
        )
        self.message_user(
            request,
            ngettext("%(n)d reservation confirmed.", "%(n)d reservations confirmed.", done)
            % {"n": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Cancel selected reservations"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        done = 0
        for r in queryset.filter(status__in=ACTIVE_STATUSES).with_people():
            done += r.cancel(by=request.user, channel=Channel.ADMIN, by_staff=True) is None
        self.message_user(
            request,
            ngettext("%(n)d reservation cancelled.", "%(n)d reservations cancelled.", done)
            % {"n": done},
            messages.SUCCESS,
        )


@admin.register(ReservationEvent)
class ReservationEventAdmin(admin.ModelAdmin):
    list_display = ("at", "reservation", "action", "from_status", "to_status", "actor", "channel")
    list_filter = ("action", "channel", "at")
    search_fields = ("reservation__id", "actor__email", "reservation__client__email")
    date_hierarchy = "at"
    list_select_related = ("reservation__client", "actor")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
