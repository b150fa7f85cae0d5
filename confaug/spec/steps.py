"""``transforms:`` steps: an albumentations transform by class name, or a composite."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from confaug.spec.catalog import COMPOSITES


class TransformStep(BaseModel):
    """One step: ``- Name`` or ``- Name: {param: value}``; composites hold ``transforms``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="albumentations transform class name")
    params: dict[str, Any] = Field(default_factory=dict)
    transforms: tuple[TransformStep, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_shape(cls, value: Any) -> Any:
        if isinstance(value, TransformStep):
            return value
        if isinstance(value, str):
            if value in COMPOSITES:
                raise ValueError(
                    f"{value} needs a 'transforms' list, e.g. '{value}: {{transforms: [...]}}'"
                )
            return {"name": value}
        if (
            isinstance(value, dict)
            and set(value) >= {"name"}
            and set(value) <= {"name", "params", "transforms"}
        ):
            return value
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(
                "a step is a transform name, or a mapping with exactly one key, "
                "the transform name (e.g. '- GaussNoise: {p: 0.3}')"
            )
        ((name, params),) = value.items()
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(
                f"the parameters of {name} must be a mapping, e.g. '{name}: {{p: 0.5}}'"
            )
        params = dict(params)
        children = params.pop("transforms", None) if name in COMPOSITES else None
        if name in COMPOSITES and not isinstance(children, list):
            raise ValueError(f"{name} needs a 'transforms' list")
        return {"name": name, "params": params, "transforms": children}

    @model_serializer(mode="plain")
    def _to_yaml_shape(self) -> Any:
        body: dict[str, Any] = dict(self.params)
        if self.transforms is not None:
            body["transforms"] = [step._to_yaml_shape() for step in self.transforms]
        return {self.name: body} if body else self.name
