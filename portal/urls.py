from django.urls import path, re_path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reservations/<uuid:pk>/", views.reservation_detail, name="reservation_detail"),
    path("reservations/<uuid:pk>/cancel/", views.cancel, name="reservation_cancel"),
    # Paying for a session held for payment, and Mercado Pago's way back.
    path("reservations/<uuid:pk>/pay/", views.pay, name="reservation_pay"),
    path("reservations/<uuid:pk>/paid/", views.payment_return, name="payment_return"),
    path("professionals/<uuid:pk>/photo/", views.professional_photo, name="professional_photo"),
    # Booking and moving a session.
    path("book/", views.choose_professional, name="book"),
    path("book/<uuid:pk>/", views.book, name="book_professional"),
    path("book/<uuid:pk>/confirm/", views.book_confirm, name="book_confirm"),
    path("reservations/<uuid:pk>/reschedule/", views.reschedule, name="reschedule"),
    path(
        "reservations/<uuid:pk>/reschedule/confirm/",
        views.reschedule_confirm,
        name="reschedule_confirm",
    ),
    path("preferences/", views.preferences, name="preferences"),
    # Your data: a copy (after the password again) and asking for deletion.
    path("preferences/data/", views.data_page, name="data_page"),
    path("preferences/data.json", views.data_export, name="data_export"),
    path("preferences/data/deletion/", views.data_deletion, name="data_deletion"),
    # Calendars. The feed's token: 43 URL-safe base64 characters (calendars.models); anything
    # else is a 404.
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$", views.feed, name="calendar_feed"),
    path("calendar/new/", views.regenerate, name="calendar_regenerate"),
    path("reservations/<uuid:pk>/calendar.ics", views.download, name="reservation_calendar"),
]
