from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reservations/<uuid:pk>/", views.reservation_detail, name="reservation_detail"),
    path("reservations/<uuid:pk>/cancel/", views.cancel, name="reservation_cancel"),
    path("professionals/<uuid:pk>/photo/", views.professional_photo, name="professional_photo"),
]
