"""``/v1/models`` and ``/v1/deployments``: the registry, registering an embedder, and the fairness gate."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, UploadFile

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.models import ActivationOut, DeploymentOut, ModelOut
from regard.api.uploads import read_upload
from regard.errors import InvalidInputError

router = APIRouter(tags=["models"])

ModelId = Annotated[str, Path(max_length=128, description="Model id.")]


@router.get("/models", response_model=Paged[ModelOut], summary="Every model the registry knows")
def list_models(regard: Service, ctx: Caller, paging: Paging) -> Paged[ModelOut]:
    """Ids, licences, checksums, calibrated thresholds, measured accuracy, and whether each is installed."""
    return paging.cut(regard.models(), ModelOut.of)


@router.get("/models/{model_id}", response_model=ModelOut, summary="One model")
def show_model(regard: Service, ctx: Caller, model_id: ModelId) -> ModelOut:
    return ModelOut.of(regard.model(model_id))


@router.post("/models", response_model=ModelOut, status_code=201, summary="Register an ONNX embedder")
def register_model(
    regard: Service,
    ctx: Caller,
    model_id: Annotated[str, Form(max_length=128, description="The new model's id.")],
    model: Annotated[UploadFile, File(description="ArcFace-style ONNX embedder: 112x112 RGB in, one vector out.")],
    thresholds: Annotated[
        str, Form(max_length=10_000, description='JSON object: cosine threshold per FMR, e.g. {"1e-04": 0.42}.')
    ],
    licence: Annotated[str, Form(max_length=256)] = "user-supplied",
) -> ModelOut:
    try:
        parsed = json.loads(thresholds)
        points = {str(k): float(v) for k, v in parsed.items()}
    except (ValueError, TypeError, AttributeError):
        raise InvalidInputError('thresholds must be a JSON object of numbers, e.g. {"1e-04": 0.42}') from None
    data = read_upload(model, regard.settings.max_model_bytes, "model")
    return ModelOut.of_spec(regard.register_model(model_id, data, points, ctx, licence))


@router.post("/models/{model_id}/activation", response_model=ActivationOut, summary="Activate through the gate")
def activate_model(
    regard: Service,
    ctx: Caller,
    model_id: ModelId,
    report_id: Annotated[
        str | None, Form(max_length=64, description="A stored audit report (`GET /v1/audits`) to activate on.")
    ] = None,
    report: Annotated[
        UploadFile | None, File(description="Or a report.json signed by a registered outside auditor.")
    ] = None,
    fmr: Annotated[float | None, Form(description="Operating point (default: the server's).")] = None,
) -> ActivationOut:
    """Activated only on a trusted audit (signed by this instance or a registered auditor) of this model at its
    threshold that passes the tenant's gate; an unverified report or a failing gate is a policy denial (403)
    citing the gate rule."""
    if (report_id is None) == (report is None):
        raise InvalidInputError("give either report_id or a signed report")
    data = read_upload(report, regard.settings.max_model_bytes, "report") if report is not None else None
    return ActivationOut.model_validate(
        regard.activate_model(model_id, ctx, report_id=report_id, signed_report=data, fmr=fmr)
    )


@router.get("/deployments", response_model=Paged[DeploymentOut], summary="Activations")
def deployments(regard: Service, ctx: Caller, paging: Paging) -> Paged[DeploymentOut]:
    return paging.cut(regard.deployments(ctx), DeploymentOut.of)
