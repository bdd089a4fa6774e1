from django.urls import path

from . import views

urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("settings/", views.settings_page, name="agenda_settings"),
    path("settings/payments/", views.payment_policy, name="agenda_payment_policy"),
    path("hours/", views.hours, name="agenda_hours"),
    path("hours/<int:pk>/delete/", views.hours_delete, name="agenda_hours_delete"),
    path("hours/time-off/", views.time_off_add, name="agenda_time_off_add"),
    path("hours/time-off/<int:pk>/delete/", views.time_off_delete, name="agenda_time_off_delete"),
    path("series/new/", views.series_new, name="agenda_series_new"),
    path("<uuid:pk>/series/cancel/", views.series_cancel, name="agenda_series_cancel"),
    path("<uuid:pk>/series/move/", views.series_move, name="agenda_series_move"),
    path("patients/<uuid:pk>/export/", views.patient_export, name="agenda_patient_export"),
    path("<uuid:pk>/", views.session, name="agenda_session"),
    path("<uuid:pk>/confirm/", views.confirm, name="agenda_confirm"),
    path("<uuid:pk>/decline/", views.decline, name="agenda_decline"),
    path("<uuid:pk>/cancel/", views.cancel, name="agenda_cancel"),
    path("<uuid:pk>/attendance/", views.attendance, name="agenda_attendance"),
    path("<uuid:pk>/notes/", views.notes, name="agenda_notes"),
]
