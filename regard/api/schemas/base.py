"""What every schema module shares: the example helper and the paged envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

T = TypeVar("T")


def example(**fields: Any) -> ConfigDict:
    """A model config whose JSON schema carries ``fields`` as its example."""
    return ConfigDict(json_schema_extra={"examples": [fields]})


class Paged(BaseModel, Generic[T]):
    """One page of a listing: ``next`` is the URL of the following page, null on the last."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [], "total": 0, "offset": 0, "limit": 100, "next": None}],
        }
    )

    items: list[T]
    total: int = Field(description="Items in the whole listing.")
    offset: int = Field(description="Index of the first item of this page.")
    limit: int = Field(description="Most items per page.")
    next: str | None = Field(description="URL of the next page; null on the last page.")


def _as_utc(value: datetime) -> datetime:
    # The store keeps naive UTC; RFC 3339 (OpenAPI's date-time) needs the offset said.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _as_naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]
"""A time in a response: UTC, with its offset."""

InputTime = Annotated[datetime, AfterValidator(_as_naive_utc)]
"""A time in a request: any offset, stored as UTC (a time without an offset is taken as UTC)."""
