from django.urls import path, re_path

from . import views

urlpatterns = [
    # The token: 43 URL-safe base64 characters (calendars.models); anything else is a 404.
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$", views.feed, name="calendar_feed"),
    path("calendar/new/", views.regenerate, name="calendar_regenerate"),
    path("reservations/<uuid:pk>/calendar.ics", views.download, name="reservation_calendar"),
]
