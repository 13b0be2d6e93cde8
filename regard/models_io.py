"""Model specs to and from plain dicts, for user models kept in the store."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from regard.backends.arcface_onnx import CropFormat
from regard.backends.specs import ModelSpec, ProfileMember


def spec_to_dict(spec: ModelSpec) -> dict[str, Any]:
    data = asdict(spec)
    data["extra_files"] = list(spec.extra_files)
    data["members"] = [asdict(m) for m in spec.members]
    return data


def spec_from_dict(data: dict[str, Any]) -> ModelSpec:
    fields = dict(data)
    crop = fields.pop("crop", None)
    fields["extra_files"] = tuple(fields.get("extra_files", ()))
    fields["members"] = tuple(ProfileMember(**m) for m in fields.get("members", ()))
    return ModelSpec(**fields, crop=CropFormat(**crop) if crop else None)
