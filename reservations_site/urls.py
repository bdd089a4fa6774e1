from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.views import end_session, invitation, set_language, welcome

from . import views

# The admin logs in through allauth's form, so it shares its rate limits.
admin.site.login = secure_admin_login(admin.site.login)
# The admin is the practice's reception desk.
admin.site.site_header = admin.site.site_title = _("Turnos · Reception")
admin.site.index_title = _("Reception")
# Errors in the site's layout and the visitor's language. allauth looks up handler429 here too.
handler400 = "reservations_site.views.bad_request"
handler403 = "reservations_site.views.permission_denied"
handler404 = "reservations_site.views.page_not_found"
handler429 = "reservations_site.views.too_many_requests"
handler500 = "reservations_site.views.server_error"

# One include() per door. The patient's URLs sit at the root: they are in patients' emails,
# calendars and bookmarks, and never move.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path(".well-known/security.txt", views.security_txt, name="security_txt"),
    path("admin/", admin.site.urls),
    # Ending one of your sessions (allauth.usersessions' own page, /accounts/sessions/, ends all
    # the others at once).
    path("accounts/sessions/<int:pk>/end/", end_session, name="usersessions_end"),
    # An invitation's link (accounts/invitations.py) and the page after it.
    path("accounts/invitation/<str:key>/", invitation, name="account_invitation"),
    path("accounts/welcome/", welcome, name="account_welcome"),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    # Django's set_language, which also saves a logged-in person's choice (accounts/views.py).
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/", include("api.urls")),
    path("agenda/", include("agenda.urls")),
    # Mercado Pago's notifications (payments/views.py).
    path("payments/", include("payments.urls")),
    path("", include("portal.urls")),
]
