"""What the API answers. Field names and values are the original platform's contract."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from reservations.models import Modality, Status


class ReservationOut(Schema):
    id: UUID
    client_id: UUID = Field(description="The patient's user id.")
    professional_id: UUID = Field(description="The professional's user id.")
    start_time: datetime = Field(description="ISO 8601, in UTC.")
    end_time: datetime = Field(description="ISO 8601, in UTC.")
    status: Status
    session_modality: Modality
    created_at: datetime = Field(description="ISO 8601, in UTC.")


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
