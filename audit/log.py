"""Writing to the access log from a door: `record(request, ...)`.

Call it where someone other than the patient opens a patient's data (the agenda's session and
patient pages, the admin's change pages, the API read by staff, exports), and where a door refuses
someone (a 403 or a 404 on another person's id). A patient opening their own data is not logged.
"""

from allauth.account.adapter import get_adapter
from django.contrib.auth import get_user_model

from .models import AccessLog

Kind = AccessLog.Kind


def client_ip(request):
    """The address the request came from, as allauth's rate limits see it (trusted proxies)."""
    try:
        return get_adapter().get_client_ip(request) or None
    except Exception:  # a malformed X-Forwarded-For must never stop a page
        return request.META.get("REMOTE_ADDR") or None


def record(request, kind, *, subject=None, obj=None, where="", detail=""):
    """Append one entry. `subject` is the patient whose data it is (a User or an id); `obj` the
    object opened (any model instance). The actor is the request's user, when logged in."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    if subject is not None and not isinstance(subject, get_user_model()):
        subject = get_user_model()(pk=subject)
    object_type = object_id = ""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
    return AccessLog.objects.create(
        kind=kind,
        actor=actor,
        subject=subject,
        object_type=object_type,
        object_id=object_id,
        where=where[:100],
        path=request.get_full_path()[:500] if request is not None else "",
        request_id=getattr(request, "request_id", "")[:64] if request is not None else "",
        ip=client_ip(request) if request is not None else None,
        detail=detail[:254],
    )
