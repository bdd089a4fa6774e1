from django.contrib import admin

from accounts.models import User
from reservations.actions import Actor
from reservations.admin import ProfessionalFilter

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
