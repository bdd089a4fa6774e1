"""What the API answers. The original platform's fields keep their names and values (its
contract); the fields after them are this site's additions, which its client ignores."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AwareDatetime

from reservations.models import Modality, Status

# An amount of money (ARS): a decimal as a string with two places, never a JSON number (a float
# cannot say 0.10 exactly).
MONEY_PATTERN = r"^\d+\.\d{2}$"


def money_field(description, **kwargs):
    return Field(pattern=MONEY_PATTERN, description=description, examples=["3000.00"], **kwargs)


class ContactLink(Schema):
    kind: Literal["phone", "whatsapp", "email"]
    text: str = Field(description="What to show, as entered: the number or the address.")
    href: str = Field(description="A `tel:`, `https://wa.me/…` or `mailto:` link.")


class ContactOut(Schema):
    by: Literal["professional", "practice"] = Field(
        description=(
            "Whose details these are: the professional's, or the practice's when the "
            "professional has set none."
        )
    )
    phone: str | None = Field(description="In E.164 (+5491155551234); null when there is none.")
    whatsapp: str | None = Field(description="In E.164; null when there is none.")
    email: str | None = Field(description="null when there is none.")
    links: list[ContactLink] = Field(
        description="The same, as links, in this order: phone, WhatsApp, email. May be empty."
    )


class ReservationOut(Schema):
    # The original platform's fields.
    id: UUID
    client_id: UUID = Field(description="The patient's user id.")
    professional_id: UUID = Field(description="The professional's user id.")
    start_time: datetime = Field(description="ISO 8601, in UTC.")
    end_time: datetime = Field(description="ISO 8601, in UTC.")
    status: Status
    session_modality: Modality
    created_at: datetime = Field(description="ISO 8601, in UTC.")
    # This site's additions: always present, null when they do not apply.
    professional_name: str = Field(
        description="The name patients see: the profile's display name, else the full name."
    )
    professional_specialty: str | None = Field(description="null when none is set.")
    join_url: str | None = Field(
        description=(
            "The video call link, only while it may be used: from join_opens_at until "
            "end_time, and not CANCELLED. null at any other time, for in-person sessions, and "
            "when no link has been set (then the contact is the way in)."
        )
    )
    join_opens_at: datetime | None = Field(
        description=(
            "Virtual sessions: when join_url starts being sent (15 minutes before start_time), "
            "ISO 8601 in UTC. null for in-person sessions."
        )
    )
    address: str | None = Field(
        description=(
            "In-person sessions: where (the professional's address, else the practice's). "
            "null for virtual sessions or when none is set."
        )
    )
    map_url: str | None = Field(
        description="An OpenStreetMap search for the address; null when address is null."
    )
    contact: ContactOut = Field(description="How to reach the professional or the practice.")
    cancel_deadline: datetime = Field(
        description=(
            "The last moment the patient may cancel (DELETE), ISO 8601 in UTC: start_time "
            "minus the professional's notice period. Exactly then is still allowed."
        )
    )
    attended: bool | None = Field(
        description=(
            "Whether the patient came, as recorded by the professional; null until recorded."
        )
    )
    late_cancellation: Literal["patient", "practice"] | None = Field(
        description=(
            "For a cancel inside the notice period (only the practice can make one): whose side "
            'it was, "patient" (staff cancelled on the patient\'s behalf) or "practice"; '
            "null otherwise."
        )
    )
    # Payments (payments/; docs/api.md, "Paying for a session").
    price: str | None = money_field(
        "What a session in this modality costs with its professional now (their payment "
        'policy), e.g. "10000.00"; null when the professional has no price set (nothing is paid '
        "online). Informative: what was paid is amount_paid."
    )
    payment_status: Literal["due", "paid", "partly_refunded", "refunded"] | None = Field(
        description=(
            '"due": held until pay_by for its payment of amount_due; "paid"; "partly_refunded" '
            '(some of what was paid is given back, or on its way back); "refunded" (all of it); '
            "null when nothing was paid online and nothing is due."
        )
    )
    amount_due: str = money_field(
        'What is to be paid now to keep the session; "0.00" unless payment_status is "due".'
    )
    pay_by: datetime | None = Field(
        description=(
            'While payment_status is "due": the end of the hold, ISO 8601 in UTC. Unpaid by '
            "then, the session is cancelled (reason expired) and its time freed. null otherwise."
        )
    )
    amount_paid: str = money_field(
        'What was paid for the session (Mercado Pago, or recorded by the practice); "0.00" '
        "when nothing. Refunds are not taken off: see refunded."
    )
    refunded: str = money_field(
        "Of amount_paid, what is given back: refunds made plus those on their way "
        '(refund_pending); "0.00" when none.'
    )
    refund_pending: str = money_field(
        "Of refunded, what Mercado Pago has not confirmed yet: it reaches the card or account "
        'paid with in a few business days; "0.00" when none.'
    )
    payment_url: str | None = Field(
        description=(
            'While payment_status is "due": Mercado Pago\'s checkout, where the patient pays '
            "(open it in a browser). null otherwise, and while no checkout has been made: then "
            "POST /api/reservations/{id}/pay makes one and answers it."
        )
    )


class ReservationListEnvelope(Schema):
    status: Literal[200]
    data: list[ReservationOut] = Field(description="Newest start_time first.")
    message: str


class ReservationEnvelope(Schema):
    status: Literal[200]
    data: ReservationOut
    message: str


class CancelEnvelope(Schema):
    status: Literal[200]
    data: list[ReservationOut] = Field(description="The cancelled reservation, as a list of one.")
    message: str


class ErrorEnvelope(Schema):
    status: int = Field(description="The HTTP status code, repeated.")
    message: str = Field(description="Why, for a person to read (in the request's language).")
    code: str | None = Field(
        None,
        description=(
            "Refusals of booking, rescheduling and paying (409) only: why, for machines. "
            "Booking and rescheduling: `unavailable` (taken, or never offered), `modality`, "
            "`limit` (a request already waiting for this professional), `notice`, "
            "`in_progress`, `past`, `already_cancelled`, `awaiting_payment` (a session waiting "
            "for its payment is not moved). Paying: `not_payable` (the session is not waiting "
            "for a payment, or its hold is ending)."
        ),
    )


class PaymentPolicyOut(Schema):
    collect: Literal["none", "deposit", "whole"] = Field(
        description=(
            "What is paid online when booking, with Mercado Pago: nothing, a deposit, or the "
            "whole session. Anything but none: a booking is held until paid (docs/api.md)."
        )
    )
    deposit: str | None = money_field(
        "The deposit of a session at the price per session; null when they have none."
    )
    late_keeps: Literal["nothing", "deposit", "everything"] = Field(
        description=(
            "Of what was paid, what the practice keeps when a session is cancelled inside the "
            "notice period or missed: nothing, the deposit, or everything. A cancel in time "
            "refunds everything."
        )
    )
    prices: dict[Modality, str] = Field(
        description=(
            "What a session costs in each modality (the same as price unless they charge "
            "differently)."
        )
    )


class ProfessionalOut(Schema):
    id: UUID = Field(description="The professional's user id (professional_id).")
    name: str = Field(description="The name patients see.")
    specialty: str | None = Field(description="null when none is set.")
    requires_approval: bool = Field(
        description="Bookings wait as PENDING until the professional confirms them."
    )
    seen: bool = Field(description="The caller has had sessions with them (listed first).")
    price: str | None = money_field(
        'Their price per session, e.g. "10000.00"; null when they have none (nothing is paid '
        "online)."
    )
    payment: PaymentPolicyOut | None = Field(
        description="How their sessions are paid; null when they have no price set."
    )


class ProfessionalListEnvelope(Schema):
    status: Literal[200]
    data: list[ProfessionalOut] = Field(
        description="Those the caller has seen first, then by name."
    )
    message: str


class SlotOut(Schema):
    start_time: datetime = Field(
        description="ISO 8601 with the professional's UTC offset, e.g. 2026-03-16T09:00:00-03:00."
    )
    end_time: datetime = Field(description="ISO 8601, same offset.")
    session_modality: Modality = Field(
        description="A slot offering both modalities is listed twice, once with each."
    )


class SlotListEnvelope(Schema):
    status: Literal[200]
    data: list[SlotOut] = Field(description="Earliest first.")
    message: str


class BookingIn(Schema):
    professional_id: UUID
    start_time: AwareDatetime = Field(
        description="A free slot's start_time, with its offset (any offset naming that instant)."
    )
    session_modality: Modality


class RescheduleIn(Schema):
    start_time: AwareDatetime = Field(description="A free slot's start_time, with its offset.")
    session_modality: Modality | None = Field(
        None,
        description="Omitted: the session's own modality when the new time offers it.",
    )


class ReservationCreatedEnvelope(Schema):
    status: Literal[201]
    data: ReservationOut
    message: str
