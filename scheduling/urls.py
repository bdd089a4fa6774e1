from django.urls import path

from . import views

urlpatterns = [
    path("book/", views.choose_professional, name="book"),
    path("book/<uuid:pk>/", views.book, name="book_professional"),
    path("book/<uuid:pk>/confirm/", views.book_confirm, name="book_confirm"),
    path("reservations/<uuid:pk>/reschedule/", views.reschedule, name="reschedule"),
    path(
        "reservations/<uuid:pk>/reschedule/confirm/",
        views.reschedule_confirm,
        name="reschedule_confirm",
    ),
]
