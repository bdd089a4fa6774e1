"""The JSON API: the original platform's reservations contract, with ownership and cancelling
instead of deleting.

Every answer is an envelope, `{"status": <code>, "data": ..., "message": "..."}`; errors carry no
`data`. Who may do what is decided by `_staff_may` and `_reservation_for`.
"""

import logging
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from allauth.headless.contrib.ninja.security import JWTTokenAuth
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.renderers import JSONRenderer
from ninja.security import SessionAuth
from pydantic import Field

from accounts import enrolment
from accounts.models import User
from audit.log import refused, viewed
from payments import booking as paid_booking
from payments import ledger as payment_ledger
from payments import mercadopago
from payments.models import money
from reservations.actions import Actor, Channel
from reservations.models import (
    REASON_MAX_LENGTH,
    Modality,
    Refusal,
    Reservation,
)
from scheduling import booking
from scheduling.slots import free_slots

from .errors import ERROR_MESSAGES, UNAVAILABLE_ERRORS
from .schemas import (
    BookingIn,
    CancelEnvelope,
    ErrorEnvelope,
    ProfessionalListEnvelope,
    RescheduleIn,
    ReservationCreatedEnvelope,
    ReservationEnvelope,
    ReservationListEnvelope,
    SlotListEnvelope,
)
from .throttle import UserThrottle

logger = logging.getLogger(__name__)

# What each error means, for the OpenAPI document.
ERROR_DESCRIPTIONS = {
    400: "Malformed query parameter, or a body that is not JSON.",
    401: "No credentials, or an invalid or expired access token.",
    403: (
        "Session POST or DELETE without a valid X-CSRFToken header; or staff or a professional "
        "who has not set up two-step verification on the website yet."
    ),
    404: "Missing, malformed or someone else's id: the same answer for all three.",
    405: "Another method on this path; the Allow header lists the right ones.",
    409: (
        "A rule refuses: the cancellation notice (session in progress or past), or for booking "
        "and rescheduling the time is taken or not offered; `code` says which."
    ),
    422: "Invalid body or query: a field missing or malformed, a time without its offset, "
    "a range of more than 31 days, a staff cancel without its reason.",
    429: "Too many requests from this user; the Retry-After header says for how long.",
    500: "Unexpected error (logged; no details are sent).",
    503: (
        "The database is unavailable, or (paying) Mercado Pago is; the Retry-After header says "
        "when to try again."
    ),
}

# How long a client should wait before asking again after a 503.
RETRY_AFTER = "30"


class ApiError(HttpError):
    """An error whose message is already meant for the person reading it."""


class Refused(ApiError):
    """A 409 from a rule's Refusal: its message for people, its code for machines."""

    def __init__(self, refusal):
        super().__init__(409, str(refusal.message))
        self.code = refusal.code


def refuse_until_enrolled(user, session=None):
    """Staff and professionals without two-step verification get a 403 until they set it up on
    the website (accounts/enrolment.py); their app's login gets no token either. A browser's
    session knows from its login whether they are a professional; a token is asked each time."""
    if user is not None and enrolment.must_enrol(user, session):
        raise ApiError(403, enrolment.ENROL_MESSAGE)


class BearerAuth(JWTTokenAuth):
    """allauth's JWT access token (`Authorization: Bearer …`), documented as HTTP bearer.

    Unlike allauth's class, a request that sends an Authorization header is decided here: a bad
    or expired token is a 401 rather than a fall-through to the session (which would answer a
    Bearer DELETE with a CSRF error)."""

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_bearerFormat = "JWT"
    openapi_description = (
        "Access token from `POST /_allauth/app/v1/auth/login` (`meta.access_token`). "
        "No CSRF token is needed."
    )

    def __call__(self, request):
        if "HTTP_AUTHORIZATION" not in request.META:
            return None
        if super().__call__(request) is None:
            raise ApiError(401, _("The access token is invalid or has expired."))
        refuse_until_enrolled(request.user)
        return request.user


class BrowserSessionAuth(SessionAuth):
    """The logged-in browser's session cookie; unsafe methods need the X-CSRFToken header."""

    openapi_description = (
        "The site's session cookie (log in at /accounts/login/). POST and DELETE also need the "
        f"`X-CSRFToken` header carrying the `{settings.CSRF_COOKIE_NAME}` cookie's value."
    )

    def __call__(self, request):
        # Without a logged-in session there is nothing to protect from CSRF: answer 401, not 403.
        if not request.user.is_authenticated:
            return None
        user = super().__call__(request)
        refuse_until_enrolled(user, request.session)
        return user


class CompactJSONRenderer(JSONRenderer):
    """JSON without spaces after separators, as the original's Express server sends it: a
    reservation list is 5% smaller."""

    json_dumps_params = {"separators": (",", ":")}


throttle = UserThrottle()  # settings.API_RATE_LIMIT per user (api/throttle.py)

api = NinjaAPI(
    title="Turnos API",
    version="1",
    description=(
        "The reservations API of the original web client, at `/api`. Every answer, error or "
        "not, is a JSON envelope `{status, data?, message}`. A patient sees only their own "
        "reservations; anything else is the same 404 as an id that does not exist. Cancelling "
        "(DELETE) keeps the reservation and marks it CANCELLED, within the cancellation notice. "
        "A reservation has the original's fields, then this site's (the professional's name, "
        "the video link only while it may be used, address, contact, cancel deadline, "
        "attendance, and its payment), null when they do not apply. See docs/api.md."
    ),
    urls_namespace="api",
    auth=[BearerAuth(), BrowserSessionAuth()],
    throttle=[throttle],
    # Swagger UI comes from ninja's static files; its validator badge would call swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    renderer=CompactJSONRenderer(),
)


def envelope_response(request, status, message):
    response = api.create_response(
        request, {"status": status, "message": str(message)}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    status = exc.status_code
    own_message = isinstance(exc, ApiError)
    if isinstance(exc, Refused):
        body = {"status": status, "message": exc.message, "code": exc.code}
        return api.create_response(request, body, status=status)
    message = exc.message if own_message else ERROR_MESSAGES.get(status, exc.message)
    response = envelope_response(request, status, message)
    if status == 503:
        response["Retry-After"] = RETRY_AFTER
    return response


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return envelope_response(request, 404, ERROR_MESSAGES[404])


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    # Ids are UUIDs: a malformed one is the same 404 as a missing one, never a hint.
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        return envelope_response(request, 404, ERROR_MESSAGES[404])
    # A body that does not say what is needed: 422, as for booking's other invalid input.
    if any(error.get("loc", ("",))[0] == "body" for error in exc.errors):
        return envelope_response(request, 422, ERROR_MESSAGES[422])
    return envelope_response(request, 400, ERROR_MESSAGES[400])


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): Django refuses to read it.
    return envelope_response(request, 413, ERROR_MESSAGES[413])


@api.exception_handler(Exception)
def on_unexpected_error(request, exc):
    # Like the site's handler500: a database outage is a 503 the client may retry.
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.error("API database error on %s %s: %r", request.method, request.path, exc)
        response = envelope_response(request, 503, ERROR_MESSAGES[503])
        response["Retry-After"] = RETRY_AFTER
        return response
    logger.exception("API error on %s %s", request.method, request.path)
    return envelope_response(request, 500, ERROR_MESSAGES[500])


def _staff_may(user, action):
    # Staff who may view (or change) reservations in the admin may do so here for any patient.
    return user.is_staff and user.has_perm(f"reservations.{action}_reservation")


def _reservation_for(request, pk, action):
    """The user's own reservation, or (for staff with the permission) anyone's; else 404 (and
    someone else's, refused, goes to the access log)."""
    user = request.user
    reservations = _with_people_and_prices()
    staff = _staff_may(user, action)
    if not staff:
        reservations = reservations.filter(client=user)
    try:
        return reservations.get(pk=pk)
    except Reservation.DoesNotExist:
        if not staff:
            refused(request, Reservation, pk, owner="client", where="api: reservation")
        raise Http404 from None


def _with_people_and_prices():
    """Reservations with their professional, profile and payment policy joined: for one."""
    return Reservation.objects.with_people().select_related("professional__payment_policy")


def _professionals_of(rows):
    """reservations.models.professionals_of, with each professional's payment policy (the
    price) in the same one query for them all."""
    professionals = User.objects.select_related("professional_profile", "payment_policy")
    prefetch_related_objects(rows, Prefetch("professional", queryset=professionals))
    return rows


def _policy(professional):
    # Joined with the professional: no query (payments.booking.POLICY).
    return paid_booking.policy_of(professional)


def _money_of(rows, now):
    """{pk: (Ledger, Checkout or None)} for each of `rows`, in two queries for them all at most
    (payments.ledger.ledgers); the professionals' policies come loaded with the rows."""
    return {pk: (a, a.checkout) for pk, a in payment_ledger.ledgers(rows, now).items()}


def _amount(value):
    return str(money(value))


def _payment_out(reservation, account, checkout, now):
    """The payment fields of a reservation (schemas.ReservationOut, docs/api.md). Only an
    existing checkout's address is given: making one asks Mercado Pago, which only POST does."""
    policy = _policy(reservation.professional)
    payable = checkout is not None and checkout.url and paid_booking.payable(reservation, now)
    return {
        "price": _amount(policy.price_for(reservation.session_modality)) if policy else None,
        "payment_status": account.status or None,
        "amount_due": _amount(account.due),
        "pay_by": reservation.expires_at if account.due else None,
        "amount_paid": _amount(account.paid),
        "refunded": _amount(account.refunded + account.coming),
        "refund_pending": _amount(account.coming),
        "payment_url": checkout.url if payable else None,
    }


def _reservation_out(reservation, now, money_of=None):
    """A reservation as the API shows it at `now`: the original's fields, then ours (schemas.py).

    The reservation should come with its professional, their profile and payment policy loaded
    (_with_people_and_prices(), or _professionals_of() for a list): the name, contact, links and
    price read them. `money_of`: _money_of() of the list it is in (else asked for this one)."""
    profile = reservation.profile
    contact = reservation.contact
    if money_of is None:
        money_of = _money_of([reservation], now)
    account, checkout = money_of[reservation.pk]
    return {
        "id": reservation.id,
        "client_id": reservation.client_id,
        "professional_id": reservation.professional_id,
        "start_time": reservation.start_time,
        "end_time": reservation.end_time,
        "status": reservation.status,
        "session_modality": reservation.session_modality,
        "created_at": reservation.created_at,
        "professional_name": reservation.professional.display_name,
        "professional_specialty": (profile.specialty if profile else "") or None,
        # The link itself only inside its window; the time it opens always, so a client can
        # say "the link appears at 14:45" without being handed the link a week early.
        "join_url": reservation.join_url(now) or None,
        "join_opens_at": (
            reservation.join_opens_at if reservation.session_modality == Modality.VIRTUAL else None
        ),
        "address": reservation.address or None,
        "map_url": reservation.map_url or None,
        "contact": {
            "by": "practice" if contact.by_practice else "professional",
            "phone": contact.phone or None,
            "whatsapp": contact.whatsapp or None,
            "email": contact.email or None,
            "links": [
                {"kind": kind, "text": text, "href": href} for kind, text, href in contact.links
            ],
        },
        "cancel_deadline": reservation.cancel_deadline,
        "attended": reservation.attended,
        "late_cancellation": reservation.late_cancellation or None,
        **_payment_out(reservation, account, checkout, now),
    }


def route(method, path, *, ok, errors, ok_status=200, **options):
    """Registers the operation at `path` and, undocumented, at `path/`: the original client
    calls paths without a trailing slash, and a trailing slash should work too.

    `ok` is the schema of the `ok_status` answer, `errors` the error codes it may answer (all
    in the envelope)."""
    codes = sorted({401, 403, 404, 405, 429, 500, 503, *errors})
    options["response"] = {ok_status: ok, frozenset(codes): ErrorEnvelope}
    options["openapi_extra"] = {
        "responses": {code: {"description": ERROR_DESCRIPTIONS[code]} for code in codes}
    }

    def register(view):
        getattr(api, method)(path + "/", include_in_schema=False, **options)(view)
        return getattr(api, method)(path, **options)(view)

    return register


class CancelQuery(Schema):
    reason: str = Field(
        "", max_length=REASON_MAX_LENGTH, description="Optional, recorded with the cancel."
    )


@route(
    "get",
    "/reservations/user/{client_id}",
    ok=ReservationListEnvelope,
    errors=(),
    summary="A patient's reservations",
    description="Newest start_time first. Only the patient themself (or staff) may list them.",
    tags=["reservations"],
)
def list_reservations(request, client_id: UUID):
    user = request.user
    others = client_id != user.pk
    if others and not _staff_may(user, "view"):
        refused(request, User, client_id, owner="pk", where="api: reservations of a patient")
        raise Http404
    if others and not User.objects.filter(pk=client_id).exists():
        raise Http404
    reservations = _professionals_of(
        list(Reservation.objects.filter(client_id=client_id).order_by("-start_time", "-id"))
    )
    if others:
        # Staff reading a patient's sessions: one entry for the list (not one per session).
        viewed(request, client_id, User(pk=client_id), where="api: reservations of a patient")
    now = timezone.now()
    money_of = _money_of(reservations, now)
    return {
        "status": 200,
        "data": [_reservation_out(reservation, now, money_of) for reservation in reservations],
        "message": (
            f"SOLICITASTE TODAS LAS RESERVAS DEL USUARIO CON EL ID: {client_id} EXITOSAMENTE"
        ),
    }


@route(
    "get",
    "/reservations/{id}",
    ok=ReservationEnvelope,
    errors=(),
    summary="One reservation",
    description="404 for an id that is missing, malformed or someone else's.",
    tags=["reservations"],
)
def get_reservation(request, id: UUID):
    reservation = _reservation_for(request, id, "view")
    viewed(request, reservation.client_id, reservation, where="api: reservation")
    return {
        "status": 200,
        "data": _reservation_out(reservation, timezone.now()),
        "message": f"SOLICITASTE LA RESERVA CON EL ID: {id} EXITOSAMENTE",
    }


@route(
    "delete",
    "/reservations/{id}",
    ok=CancelEnvelope,
    errors=(400, 403, 409, 422),
    summary="Cancel a reservation",
    description=(
        "Cancels; nothing is deleted. The patient may cancel a PENDING or CONFIRMED session at "
        "least the professional's notice period ahead (48 h by default); otherwise 409 with the "
        "reason. Cancelling a cancelled reservation answers 200 and changes nothing. Staff with "
        "the change permission may cancel anyone's at any time, as in the admin, and must give "
        "the `reason` the patient will read (422 without one)."
    ),
    tags=["reservations"],
)
def cancel_reservation(request, id: UUID, query: Query[CancelQuery]):
    user = request.user
    reservation = _reservation_for(request, id, "change")
    now = timezone.now()
    # Staff cancelling a patient's session is the practice: no notice, and a reason is needed.
    if reservation.client_id == user.pk:
        by = Actor.patient(user, Channel.API)
    else:
        by = Actor.staff(user, Channel.API)
    refusal = reservation.cancel(by=by, reason=query.reason, now=now)
    if refusal is None:
        message = f"CANCELASTE LA RESERVA CON EL ID: {id} EXITOSAMENTE"
    elif refusal.code == "already_cancelled":
        message = str(refusal)
    elif refusal.code == "reason_required":
        raise ApiError(422, str(refusal))
    else:
        raise ApiError(409, str(refusal))
    return {"status": 200, "data": [_reservation_out(reservation, now)], "message": message}


# Booking (scheduling/booking.py has the rules; the pages use the same ones).

# The most days one slots request may cover.
MAX_SLOT_DAYS = 31


def _professional_for(user, pk):
    """A professional the user may book, or 404 (like a missing one)."""
    # With their payment policy: booking reads it to decide whether to hold for payment.
    professional = booking.bookable_professional(user, pk, related=paid_booking.POLICY)
    if professional is None:
        raise Http404
    return professional


@route(
    "get",
    "/professionals",
    ok=ProfessionalListEnvelope,
    errors=(),
    summary="The professionals the caller may book",
    description=(
        "Those with working hours: the ones the caller has seen first, then the others unless the "
        "practice only lets patients book professionals they already see (BOOKING_OPEN_TO_ALL)."
    ),
    tags=["booking"],
)
def list_professionals(request):
    professionals = booking.bookable_professionals(request.user)
    prefetch_related_objects(professionals, "payment_policy")  # one query for them all
    data = []
    for p in professionals:
        profile = getattr(p, "professional_profile", None)
        policy = _policy(p)
        data.append(
            {
                "id": p.pk,
                "name": p.display_name,
                "specialty": (profile.specialty if profile else "") or None,
                "requires_approval": booking.needs_approval(p),
                "seen": p.seen,
                "price": _amount(policy.price) if policy else None,
                "payment": _policy_out(policy) if policy else None,
            }
        )
    return {"status": 200, "data": data, "message": "SOLICITASTE LOS PROFESIONALES EXITOSAMENTE"}


def _policy_out(policy):
    deposit = policy.deposit_for(None)
    return {
        "collect": policy.collect,
        "deposit": _amount(deposit) if deposit else None,
        "late_keeps": policy.late_keeps,
        "prices": {m: _amount(policy.price_for(m)) for m in (Modality.VIRTUAL, Modality.IN_PERSON)},
    }


class SlotsQuery(Schema):
    from_: date = Field(alias="from", description="First day, YYYY-MM-DD (professional's zone).")
    to: date = Field(description="Last day, included; at most 31 days in all.")


@route(
    "get",
    "/professionals/{id}/slots",
    ok=SlotListEnvelope,
    errors=(400, 422),
    summary="A professional's free slots",
    description=(
        "The times the caller may book from `from` to `to` (both included, days in the "
        "professional's time zone; at most 31 days, else 422): the professional's working hours "
        "minus time off, their sessions (with the break between them) and the caller's own "
        "sessions, within the lead time and the horizon. Times carry the professional's offset."
    ),
    tags=["booking"],
)
def list_slots(request, id: UUID, query: Query[SlotsQuery]):
    professional = _professional_for(request.user, id)
    start, end = query.from_, query.to
    if end < start or (end - start).days >= MAX_SLOT_DAYS:
        raise ApiError(422, _("Ask for at most 31 days, with `to` on or after `from`."))
    zone = ZoneInfo(professional.time_zone)
    slots = free_slots(
        professional, start, end, now=timezone.now(), patient=request.user, zone=zone
    )
    data = [
        {
            "start_time": slot.start.astimezone(zone),
            "end_time": slot.end.astimezone(zone),
            "session_modality": modality,
        }
        for slot in slots
        for modality in slot.modalities
    ]
    return {
        "status": 200,
        "data": data,
        "message": f"SOLICITASTE LOS HORARIOS LIBRES DEL PROFESIONAL CON EL ID: {id} EXITOSAMENTE",
    }


@route(
    "post",
    "/reservations",
    ok=ReservationCreatedEnvelope,
    ok_status=201,
    errors=(400, 403, 409, 422),
    summary="Book a free slot",
    description=(
        "Books `start_time` with the professional: 201 with the reservation, PENDING when the "
        "professional approves bookings (it holds the slot until confirmed or until it lapses, "
        "48 h by default or the session's start) or CONFIRMED. When the professional asks for "
        "a payment when booking, it is PENDING with payment_status `due` instead, held until "
        "`pay_by` (30 minutes), and `payment_url` is Mercado Pago's checkout, where the patient "
        "pays (null if Mercado Pago could not be reached: then POST "
        "/api/reservations/{id}/pay). 409 when the time is taken or not offered "
        "(`unavailable`), the modality is not offered then (`modality`) or a request is already "
        "waiting for this professional, or a session for its payment (`limit`). Of several "
        "patients booking one slot at once, exactly one gets it."
    ),
    tags=["booking"],
)
def create_reservation(request, payload: BookingIn):
    professional = _professional_for(request.user, payload.professional_id)
    now = timezone.now()
    result = paid_booking.book(
        request.user,
        professional,
        payload.start_time,
        payload.session_modality,
        now=now,
        channel=Channel.API,
    )
    if not isinstance(result, Reservation):
        raise Refused(result)
    if result.awaiting_payment:
        # The booking stands either way: the client asks again with POST .../pay.
        _checkout_url(result, now)
    reservation = _with_people_and_prices().get(pk=result.pk)
    return Status(
        201,
        {
            "status": 201,
            "data": _reservation_out(reservation, now),
            "message": f"CREASTE LA RESERVA CON EL ID: {reservation.pk} EXITOSAMENTE",
        },
    )


@route(
    "post",
    "/reservations/{id}/reschedule",
    ok=ReservationEnvelope,
    errors=(400, 403, 409, 422),
    summary="Move a session to another free slot",
    description=(
        "The patient moves their session to a free slot of the same professional, in one "
        "transaction: the new reservation is created (PENDING or CONFIRMED, as when booking) "
        "and the old one is cancelled with reason `rescheduled`. When the professional approves "
        "bookings and the session is CONFIRMED, the move is a request instead: the new "
        "reservation is PENDING and the old one stays CONFIRMED until the professional accepts "
        "(then it is cancelled with reason `rescheduled`); declined or lapsed, the old one "
        "stands. 200 with the new reservation. 409 with `code` when the cancel rule refuses "
        "(`notice`, `in_progress`, `past`, `already_cancelled`: nothing changes), a request to "
        "move it already waits (`move_waiting`), or the time cannot be booked (`unavailable`, "
        "`modality`). 404 for someone else's reservation."
    ),
    tags=["booking"],
)
def reschedule_reservation(request, id: UUID, payload: RescheduleIn):
    try:
        reservation = Reservation.objects.with_people().get(pk=id, client=request.user)
    except Reservation.DoesNotExist:
        refused(request, Reservation, id, owner="client", where="api: reschedule")
        raise Http404 from None
    now = timezone.now()
    result = booking.reschedule(
        reservation,
        payload.start_time,
        payload.session_modality,
        by=Actor.patient(request.user, Channel.API),
        now=now,
    )
    if not isinstance(result, Reservation):
        raise Refused(result)
    new = _with_people_and_prices().get(pk=result.pk)
    if new.replaces is not None:  # a request: the old one stands meanwhile
        message = f"PEDISTE CAMBIAR EL HORARIO DE LA RESERVA CON EL ID: {id}; LA NUEVA ES {new.pk}"
    else:
        message = f"CAMBIASTE EL HORARIO DE LA RESERVA CON EL ID: {id}; LA NUEVA ES {new.pk}"
    return {"status": 200, "data": _reservation_out(new, now), "message": message}


def _checkout_url(reservation, now):
    """Where `reservation` is paid (payments.booking.checkout_url: made the first time), or None
    when Mercado Pago could not be reached (logged; the hold stands)."""
    try:
        return paid_booking.checkout_url(reservation, now)
    except mercadopago.MercadoPagoError as exc:
        logger.warning("checkout for %s: Mercado Pago answered %s", reservation.pk, exc.status)
        return None


NOT_PAYABLE = _("This session can no longer be paid for.")


@route(
    "post",
    "/reservations/{id}/pay",
    ok=ReservationEnvelope,
    errors=(403, 409),
    summary="Where to pay for a session held for its payment",
    description=(
        "For a session of the caller's with payment_status `due`: 200 with the reservation, "
        "whose `payment_url` is Mercado Pago's checkout (made now if booking could not make "
        "it; the same one when asked again). 409 `not_payable` when the session is not waiting "
        "for a payment (paid, confirmed, cancelled, lapsed) or its hold ends in less than 2 "
        "minutes. 503 (Retry-After) when Mercado Pago cannot be reached: the hold stands, ask "
        "again. 404 for someone else's reservation (staff too: paying is the patient's own)."
    ),
    tags=["booking"],
)
def pay_reservation(request, id: UUID):
    try:
        reservation = _with_people_and_prices().get(pk=id, client=request.user)
    except Reservation.DoesNotExist:
        refused(request, Reservation, id, owner="client", where="api: pay")
        raise Http404 from None
    now = timezone.now()
    try:
        url = paid_booking.checkout_url(reservation, now)
    except mercadopago.MercadoPagoError as exc:
        logger.warning("checkout for %s: Mercado Pago answered %s", reservation.pk, exc.status)
        raise ApiError(
            503, _("Mercado Pago cannot be reached now. Your time is held: try again in a moment.")
        ) from None
    if url is None:
        raise Refused(Refusal("not_payable", NOT_PAYABLE))
    return {
        "status": 200,
        "data": _reservation_out(reservation, now),
        "message": f"PEDISTE PAGAR LA RESERVA CON EL ID: {id}",
    }
