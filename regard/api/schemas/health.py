"""Liveness and readiness."""

from __future__ import annotations

from pydantic import BaseModel, Field

from regard.api.schemas.base import example


class HealthOut(BaseModel):
    model_config = example(status="ok")
    status: str


class ReadyOut(BaseModel):
    model_config = example(ready=True, database=True, models={"yunet": True, "sface": True}, problems=[])
    ready: bool
    database: bool = Field(description="The database answered a query.")
    models: dict[str, bool] = Field(description="The configured detector and embedder are installed.")
    problems: list[str]
