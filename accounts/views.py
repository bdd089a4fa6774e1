"""Pages of our own beside allauth's and Django's: ending one of your sessions from its list
(allauth.usersessions' page ends all the others at once, not one); the footer's language
switcher, which also saves a logged-in person's choice."""

from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST


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
