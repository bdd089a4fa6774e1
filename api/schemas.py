"""What the API answers. The original platform's fields keep their names and values (its
contract); the fields after them are this site's additions, which its client ignores."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AwareDatetime

from reservations.models import Modality, Status


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
            "Booking and rescheduling refusals (409) only: why, for machines. `unavailable` "
            "(taken, or never offered), `modality`, `limit` (a request already waiting for "
            "this professional), `notice`, `in_progress`, `past`, `already_cancelled`."
        ),
    )


class ProfessionalOut(Schema):
    id: UUID = Field(description="The professional's user id (professional_id).")
    name: str = Field(description="The name patients see.")
    specialty: str | None = Field(description="null when none is set.")
    requires_approval: bool = Field(
        description="Bookings wait as PENDING until the professional confirms them."
    )
    seen: bool = Field(description="The caller has had sessions with them (listed first).")


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
