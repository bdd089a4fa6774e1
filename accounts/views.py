"""One page of our own beside allauth's: ending one of your sessions from its list
(allauth.usersessions' page ends all the others at once, not one)."""

from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
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
