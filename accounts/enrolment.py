"""Two-step verification, required of staff and professionals (settings.MFA_REQUIRED_FOR_STAFF).

allauth.mfa does the factors themselves (an authenticator app, passkeys, recovery codes) and asks
for the second step at every login of someone who has one. What is ours is who must have one, in
`must_enrol()`, and its doors:
- the site: `EnrolmentRequiredMiddleware` sends such a person to set up an authenticator app, and
  lets them open nothing else (the agenda, the admin, their sessions) until they have;
- an app's token login (allauth headless): `EnrolmentStage` refuses them a token;
- the API: its authentication refuses them with a 403 (api/api.py), for a token issued earlier;
- taking a factor away: `MFAAdapter` keeps them from deactivating their last one.
"""

from allauth.account.stages import LoginStage
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.base.response import ForbiddenResponse
from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

# The factors that make a second step; recovery codes only stand in for a lost one.
FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

ENROL_MESSAGE = _(
    "Your account needs two-step verification. Set it up on the website (log in there), then "
    "try again."
)

# Where someone was going when they were sent to enrol: the page after the recovery codes.
NEXT_SESSION_KEY = "enrolment_next"
# Whether the session's user is a professional, as found at login (see is_professional).
PROFESSIONAL_SESSION_KEY = "enrolment_professional"


def is_professional(user, session=None, *, recheck=False):
    """Whether `user` has a professional profile. With their `session`, the answer found at login
    (remember_role), so that a patient's pages cost no query for it; `recheck` asks the database
    again (the agenda, which loads the profile anyway) and keeps the answer."""
    if session is None:
        return hasattr(user, "professional_profile")
    known = session.get(PROFESSIONAL_SESSION_KEY)
    if known is None or recheck:
        found = hasattr(user, "professional_profile")
        if known != found:
            session[PROFESSIONAL_SESSION_KEY] = found
        return found
    return known


def remember_role(request, user):
    """At login (accounts/signals.py): whether they are a professional, kept in their session."""
    if getattr(request, "session", None) is not None:
        is_professional(user, request.session, recheck=True)


def is_required(user, session=None, *, recheck=False):
    """Whether this person must have a second factor: staff and professionals."""
    if not settings.MFA_REQUIRED_FOR_STAFF or not user.is_authenticated:
        return False
    return user.is_staff or is_professional(user, session, recheck=recheck)


def must_enrol(user, session=None, *, recheck=False):
    """Whether this person must set up a second factor before anything else."""
    return is_required(user, session, recheck=recheck) and not get_adapter().is_mfa_enabled(
        user, types=FACTORS
    )


def reset_factors(user):
    """A superuser's reset of a lost factor: every authenticator of `user` goes (their recovery
    codes too). They then log in with their password alone and, if they must have one, set up a
    factor again. Returns how many went."""
    with transaction.atomic():
        deleted, _by_type = Authenticator.objects.filter(user=user).delete()
    return deleted


# Pages a person who must enrol may still open: allauth's two-step pages (set up, recovery codes,
# re-authenticate), logging out, confirming the password, and the language switcher.
ALLOWED_URL_NAMES = {"account_logout", "account_reauthenticate", "set_language"}


def _may_pass(match):
    if match.url_name and (
        match.url_name.startswith("mfa_") or match.url_name in ALLOWED_URL_NAMES
    ):
        return True
    # The API answers in its own envelope (api/api.py); an app's login is EnrolmentStage's.
    return "api" in match.namespaces or "headless" in match.app_names


class EnrolmentRequiredMiddleware:
    """Sends a logged-in person who must enrol to the page that sets up an authenticator app.

    After the view is resolved (process_view), so that pages are told apart by name, not by path.
    An htmx request gets HX-Redirect: a redirect would swap the set-up page into a fragment.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or _may_pass(match):
            return None
        # The agenda asks the database who is a professional (its views load the profile
        # anyway): someone made a professional since they logged in must enrol there at once.
        agenda = (match.url_name or "").startswith("agenda")
        if not must_enrol(request.user, request.session, recheck=agenda):
            return None
        url = reverse("mfa_activate_totp")
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        if request.method == "GET":
            path = request.get_full_path()
            if url_has_allowed_host_and_scheme(path, allowed_hosts=None):
                request.session[NEXT_SESSION_KEY] = path
        return redirect(url)


class EnrolmentRequiredResponse(ForbiddenResponse):
    """allauth headless's 403, with its error saying why (its own 403 says nothing)."""

    def __init__(self, request):
        errors = [{"code": "mfa_enrolment_required", "message": str(ENROL_MESSAGE)}]
        # ForbiddenResponse takes no errors; its base, allauth's JSON answer, does. Being one of
        # allauth's answers, it leaves the login flow as it is (allauth re-raises those).
        super(ForbiddenResponse, self).__init__(request, errors=errors, status=403)


class EnrolmentStage(LoginStage):
    """A login stage after allauth's own (AccountAdapter.get_login_stages): an app logging in
    for someone who must enrol gets a 403 and no token. On the website the login goes on, and
    the middleware takes them to set up a factor."""

    key = "enrolment"

    def handle(self):
        match = getattr(self.request, "resolver_match", None)
        headless = match is not None and "headless" in match.app_names
        if headless and self.login.user is not None and must_enrol(self.login.user):
            raise ImmediateHttpResponse(EnrolmentRequiredResponse(self.request))
        return None, True


class MFAAdapter(DefaultMFAAdapter):
    """allauth.mfa as this site has it: someone who must have a second factor cannot switch off
    their last one (they may replace it: add a passkey first, then remove the app)."""

    def can_delete_authenticator(self, authenticator):
        user = authenticator.user
        if not is_required(user):
            return True
        others = Authenticator.objects.filter(user=user, type__in=FACTORS).exclude(
            pk=authenticator.pk
        )
        return others.exists()
