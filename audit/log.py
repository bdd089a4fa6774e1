"""Writing to the access log from a door: `record(request, ...)`, and for the common cases
`viewed(...)` (someone opened another person's data) and `refused(...)` (a door answered an id
with a 404: was it someone else's?).

Call them where someone other than the patient opens a patient's data (the agenda's session
pages, the admin's change pages, the API read by staff, exports), and where a door refuses
someone (a 403 or a 404 on another person's id). A patient opening their own data is not logged.
Failed logins are recorded by the receiver in audit/apps.py.
"""

from allauth.account.adapter import get_adapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

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


def viewed(request, subject, obj, *, where, detail=""):
    """Someone opened `subject`'s data (`obj`): one VIEW entry, unless it is their own.
    `subject` is a User or an id (a reservation's `client_id` costs no query)."""
    subject_id = getattr(subject, "pk", subject)
    if subject_id is None or subject_id == getattr(request.user, "pk", None):
        return None
    return record(request, Kind.VIEW, subject=subject, obj=obj, where=where, detail=detail)


def refused(request, model, pk, *, owner, where):
    """A door has refused `pk` of `model` to this user (and answers it like a missing id): when
    the row exists, one REFUSED entry naming its `owner` (a field of the model pointing to the
    person whose data it is). A missing or malformed id records nothing.

    One query by primary key, and the entry's insert when the row exists: the refusal path only.
    The caller's answer does not change."""
    try:
        row = model._meta.default_manager.filter(pk=pk).values_list("pk", owner).first()
    except (ValueError, TypeError, ValidationError):
        return None
    if row is None or row[1] == getattr(request.user, "pk", None):
        return None  # missing, or the person's own (refused for another reason: not logged)
    return record(request, Kind.REFUSED, subject=row[1], obj=model(pk=row[0]), where=where)


def login_failed(request, credentials):
    """A failed login (the login form, the app's login, the admin's, a re-authentication): the
    address typed and, when an account has it, that account. Never the password: only the
    `email` (or `username`) credential is read, and only when it looks like an address, since
    people do type their password into the wrong box."""
    typed = str(credentials.get("email") or credentials.get("username") or "").strip()
    if "@" not in typed:
        typed = ""
    subject = None
    if typed:
        # One lookup whether or not the account exists (then the same insert): no timing hint.
        subject = (
            get_user_model()
            .objects.filter(email__iexact=typed[:254])
            .values_list("pk", flat=True)
            .first()
        )
    return record(request, Kind.LOGIN_FAILED, subject=subject, where="login", detail=typed)
