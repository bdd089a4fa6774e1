from django.contrib import admin

from accounts.models import User
from reservations.admin import ProfessionalFilter

from .models import TimeOff, WorkingHours


class ProfessionalPicker:
    """The professional field lists professionals only (users with a professional profile), not
    every patient."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "professional":
            kwargs["queryset"] = User.objects.filter(
                professional_profile__isnull=False
            ).select_related("professional_profile")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WorkingHours)
class WorkingHoursAdmin(ProfessionalPicker, admin.ModelAdmin):
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
class TimeOffAdmin(ProfessionalPicker, admin.ModelAdmin):
    list_display = ("professional", "start", "end", "reason")
    list_filter = (ProfessionalFilter, "start")
    list_select_related = ("professional__professional_profile",)
    date_hierarchy = "start"
