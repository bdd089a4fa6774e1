"""Pages of our own beside allauth's and Django's: ending one of your sessions from its list
(allauth.usersessions' page ends all the others at once, not one); the footer's language
switcher, which also saves a logged-in person's choice; an invitation's link (choosing the
password) and the welcome page after it."""

from allauth.account.utils import perform_login
from allauth.core import ratelimit
from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import invitations
from .forms import InvitationPasswordForm
from .middleware import use_language


@require_POST
@login_required
def end_session(request, pk):
    """POST: end one of the person's sessions (another's id is a 404, like a missing one)."""
    session = get_object_or_404(UserSession, pk=pk, user_id=request.user.pk)
    current = session.session_key == request.session.session_key
    get_adapter().end_sessions([session])
    if current:
        logout(request)
        return redirect("account_login")
    messages.success(request, _("That browser or app is logged out."))
    return redirect("usersessions_list")


def set_language(request):
    """The footer's switcher: Django's set_language (the cookie, for this browser: anonymous
    visitors go by it) and, for a logged-in person, their own language, as Preferences saves
    it: their pages, emails and calendar speak it from then on, on any device."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "").lower()
    user = request.user
    if (
        request.method == "POST"
        and user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and language != user.language
    ):
        user.language = language
        user.save(update_fields=["language"])
    return response


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, key):
    """An invitation's link: the invitee chooses their password, is logged in (a second factor,
    if they have one, is asked for first: allauth's login stages) and lands on the welcome page.
    A link that is used, replaced, expired, for another address or made up gets one and the same
    page (410), which says whom to ask for a new one."""
    now = timezone.now()
    found = invitations.find(key)
    if found is None or not found.opens_for(found.user, now):
        return closed(request)
    user = found.user
    # The page speaks the invitee's language, as their email did.
    use_language(request, user)
    form = InvitationPasswordForm(user, request.POST or None)
    if request.method == "POST":
        # Each try is a password tried against the validators: the same limit as a reset's.
        limited = ratelimit.consume_or_429(request, action="reset_password_from_key")
        if limited:
            return limited
        if form.is_valid():
            if not invitations.accept(found, form, now):
                return closed(request)
            return perform_login(request, user, redirect_url=reverse("account_welcome"))
    context = {"form": form, "invitee": user, "role": invitations.role_of(user)}
    return render(request, "account/invitation.html", context)


def closed(request):
    context = {
        "site_name": settings.SITE_NAME,
        "practice_phone": settings.PRACTICE_PHONE,
        "practice_email": settings.PRACTICE_EMAIL,
    }
    return render(request, "account/invitation_closed.html", context, status=410)


@login_required
def welcome(request):
    """Where an accepted invitation lands: what the person can do next, by their role."""
    context = {"site_name": settings.SITE_NAME, "role": invitations.role_of(request.user)}
    return render(request, "account/welcome.html", context)
