"""The spec: one validated config document (layer 2)."""

from __future__ import annotations

import os
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from confaug.spec.steps import TransformStep
from confaug.spec.vocab import (
    FLOAT16_MAX,
    MAX_CVAL,
    ORDER_TO_INTERPOLATION,
    ChannelShift,
    DataFormat,
    FactorRange,
    FillMode,
    HintedError,
    InterpolationName,
    OutputDtype,
    Rescale,
    RotationRange,
    ShearRange,
    ShiftRange,
    ZoomRange,
    checked_value_range,
    describe,
)

#: The spec format this confaug reads and writes (``version:``; a file may leave it out).
SPEC_VERSION = 1

KERAS_KEYWORDS: tuple[str, ...] = (
    "featurewise_center",
    "samplewise_center",
    "featurewise_std_normalization",
    "samplewise_std_normalization",
    "zca_whitening",
    "zca_epsilon",
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "brightness_range",
    "shear_range",
    "zoom_range",
    "channel_shift_range",
    "fill_mode",
    "cval",
    "horizontal_flip",
    "vertical_flip",
    "rescale",
    "preprocessing_function",
    "data_format",
    "validation_split",
    "interpolation_order",
    "dtype",
)
"""The 23 keywords of Keras' ``ImageDataGenerator``, in its signature's order."""

GEOMETRIC_KEYWORDS = (
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "shear_range",
    "zoom_range",
    "channel_shift_range",
    "brightness_range",
    "horizontal_flip",
    "vertical_flip",
)

TargetKind = Literal[
    "image",
    "images",
    "mask",
    "masks",
    "bboxes",
    "keypoints",
    "volume",
    "volumes",
    "mask3d",
    "masks3d",
]
"""Kinds of input albumentations transforms (anything else would pass through unaugmented)."""

#: The inputs albumentations itself knows by name.
RESERVED_TARGETS = frozenset(get_args(TargetKind))


def _target_name(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"'{name}' cannot be a target name: it must be a Python identifier")
    if name in RESERVED_TARGETS:
        raise ValueError(
            f"'{name}' is albumentations' own target; an additional target needs a new name, "
            f"e.g. '{name.rstrip('s')}2'"
        )
    return name


TargetName = Annotated[str, AfterValidator(_target_name)]
_NAME_SCHEMA = {"type": "string", "minLength": 1}
_INTEGER_DTYPES = frozenset({"uint8", "uint16"})

ValueRange = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "auto"},
                {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            ]
        }
    ),
    Field(
        description="Value range of float input: 'auto' ([0, 1] when the data's maximum is ≤ 1, "
        "else [0, 255], with a ValueRangeWarning when the maximum is only just above 1) or an "
        "explicit [low, high]. uint8 input is always [0, 255]."
    ),
]


class Spec(BaseModel):
    """A confaug augmentation spec (format ``version: 1``, the default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=False)

    #: Optional: a file of Keras keywords alone is a whole config. ``to_data`` (and so
    #: ``confaug resolve``) always writes it, so a resolved file names its format.
    version: Literal[1] = Field(
        1, description="Spec format version; 1, the current format, when left out."
    )

    # Shared vocabulary.
    data_format: DataFormat = Field(
        "channels_last",
        description=(
            "Layout of images and batches: HWC/NHWC (channels_last) or CHW/NCHW (channels_first)."
        ),
    )
    fill_mode: FillMode = Field(
        "nearest",
        description=(
            "How points outside the image are filled by geometric steps (Keras' fill_mode): "
            "constant (cval), nearest (edge repeated), reflect (mirror, edge included), wrap "
            "(tile)."
        ),
    )
    cval: Annotated[float, Field(ge=-MAX_CVAL, le=MAX_CVAL, allow_inf_nan=False)] = Field(
        0.0,
        description=(
            "Fill value for fill_mode 'constant', on the 0–255 scale (cval / 255 for float "
            "images in [0, 1])."
        ),
    )
    interpolation: InterpolationName = Field(
        "bilinear",
        description=(
            "Interpolation of the Keras warp and the default for listed transforms that take one."
        ),
    )
    dtype: OutputDtype | None = Field(
        None,
        description=(
            "Output dtype; by default the input's dtype is kept (float32 when standardization or "
            "rescale is on; a Normalize, ToFloat or FromFloat step sets its own)."
        ),
    )
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None,
        description=(
            "Seed making every run of the pipeline identical; per-sample seeds derive from it."
        ),
    )
    value_range: ValueRange = "auto"

    # Keras ImageDataGenerator keywords.
    featurewise_center: bool = Field(
        False, description="Subtract the dataset mean per channel (needs pipe.fit(x))."
    )
    samplewise_center: bool = Field(False, description="Subtract each sample's mean.")
    featurewise_std_normalization: bool = Field(
        False,
        description=(
            "Divide by the dataset std per channel (needs pipe.fit(x)); implies featurewise_center."
        ),
    )
    samplewise_std_normalization: bool = Field(
        False, description="Divide each sample by its std; implies samplewise_center."
    )
    zca_whitening: bool = Field(
        False, description="Apply ZCA whitening (needs pipe.fit(x)); implies featurewise_center."
    )
    zca_epsilon: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        1e-6, description="Epsilon of ZCA whitening."
    )
    rotation_range: RotationRange = Field(
        0, description="Degrees: r means U(-r, r); [low, high] means U(low, high)."
    )
    width_shift_range: ShiftRange = Field(
        0.0,
        description=(
            "Horizontal shift: float r → U(-r, r); int n → choice(0..n-1) × ±1; list → "
            "choice(list) × ±1; values < 1 are fractions of the width, else pixels."
        ),
    )
    height_shift_range: ShiftRange = Field(
        0.0,
        description="Vertical shift, same forms as width_shift_range (fractions of the height).",
    )
    brightness_range: FactorRange = Field(
        None,
        description="[low, high]: multiply the image by U(low, high), clipped to the value range.",
    )
    shear_range: ShearRange = Field(
        0.0, description="Shear angle in degrees, counter-clockwise: s means U(-s, s)."
    )
    zoom_range: ZoomRange = Field(
        0.0,
        description=(
            "z means [1 - z, 1 + z]; or [low, high]. Width and height zoom are drawn "
            "independently; > 1 zooms out (content shrinks), as in Keras."
        ),
    )
    channel_shift_range: ChannelShift = Field(
        0.0,
        description=(
            "Add U(-c, c) to every channel (0–255 scale), clipped to the image's own min/max."
        ),
    )
    horizontal_flip: bool = Field(False, description="Flip left-right with probability 0.5.")
    vertical_flip: bool = Field(False, description="Flip up-down with probability 0.5.")
    rescale: Rescale = Field(
        None,
        description=(
            "Multiply by this after augmentation (e.g. 0.00392 or '1/255'); null or 0 means none."
        ),
    )
    # Never empty in the schema either: a registered name is an identifier (registry).
    preprocessing_function: Annotated[str, WithJsonSchema(_NAME_SCHEMA)] | None = Field(
        None,
        description=(
            "Name of a function registered in Python with confaug.register(); runs on each "
            "augmented image (as Keras does), before rescale."
        ),
    )
    validation_split: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        0.0,
        description=(
            "Fraction of images reserved for subset='validation' in directory and dataframe "
            "sources."
        ),
    )
    interpolation_order: Annotated[int, Field(ge=0, le=5)] | None = Field(
        None,
        description=(
            "Keras' spline order of the warp: 0 nearest, 1 bilinear, 2-3 bicubic, 4-5 lanczos. "
            "Overrides 'interpolation' for the Keras warp."
        ),
    )

    # Listed albumentations transforms.
    transforms: tuple[TransformStep, ...] = Field(
        (),
        description=(
            "albumentations transforms by class name, applied in order after the Keras part."
        ),
    )

    # albumentations Compose options.
    bbox_params: dict[str, Any] | None = Field(
        None,
        description=(
            "albumentations BboxParams (format, label_fields, min_area, min_visibility, ...)."
        ),
    )
    keypoint_params: dict[str, Any] | None = Field(
        None,
        description="albumentations KeypointParams (format, label_fields, remove_invisible, ...).",
    )
    additional_targets: dict[TargetName, TargetKind] = Field(
        default_factory=dict,
        description="Extra inputs and their kind, e.g. {image2: image, mask2: mask}.",
    )
    is_check_shapes: bool = Field(
        True, description="Check that image and masks have the same height and width."
    )

    @field_validator("version", mode="before")
    @classmethod
    def _integer_version(cls, value: Any) -> Any:
        # 1.0 and true compare equal to 1 but are not versions.
        if type(value) is int and value == SPEC_VERSION:
            return value
        fix = f"write version: {SPEC_VERSION}, or leave version out for the current format"
        if type(value) is int:
            raise HintedError(
                f"spec version {value} is not supported: this confaug reads version {SPEC_VERSION}",
                fix,
            )
        raise HintedError(f"must be the integer {SPEC_VERSION}, got {describe(value)}", fix)

    @field_validator("value_range", mode="before")
    @classmethod
    def _value_range(cls, value: Any) -> Any:
        return checked_value_range(value)

    @field_validator("rescale", mode="after")
    @classmethod
    def _no_zero_rescale(cls, value: Any) -> Any:
        return None if value == 0 else value

    @field_validator("transforms", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(value)
        return value

    #: The keys ``_consistent`` reads. When one of them fails its own check, the checks
    #: across keys are not run without it (``spec.validate``): its default in its place
    #: could make a clash the user's value would not (``value_range`` with float16).
    CROSS_KEY_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "interpolation_order",
            "interpolation",
            "dtype",
            "rescale",
            "value_range",
            "bbox_params",
            "keypoint_params",
            "additional_targets",
            "samplewise_center",
            "samplewise_std_normalization",
            "featurewise_center",
            "featurewise_std_normalization",
            "zca_whitening",
        }
    )

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        order = self.interpolation_order
        if (
            order is not None
            and "interpolation" in self.model_fields_set
            and ORDER_TO_INTERPOLATION[order] != self.interpolation
        ):
            raise ValueError(
                f"interpolation_order {order} ({ORDER_TO_INTERPOLATION[order]}) contradicts "
                f"interpolation '{self.interpolation}'; set only one"
            )
        if self.dtype == "float16" and self.rescale:
            # uint8 and 'auto' float data reach 255; a set value_range its larger end.
            top = 255.0 if self.value_range == "auto" else max(map(abs, self.value_range))
            if abs(self.rescale) * top > FLOAT16_MAX:
                raise ValueError(
                    f"rescale {self.rescale:g} makes values up to {abs(self.rescale) * top:g} "
                    f"({top:g} × rescale), beyond float16's {FLOAT16_MAX:,g}: dtype float16 "
                    "would hold infinity"
                )
        if self.dtype in _INTEGER_DTYPES:
            # The Keras stage's floats (rescale 1/255 gives [0, 1], centring negatives) cast
            # to an integer dtype were rounded and clipped without a word; Keras raises. A rule
            # of the spec alone, so load_spec refuses it without building the steps.
            stages = {  # the Keras stages that make floats of any image
                "samplewise_center": self.samplewise_center,
                "samplewise_std_normalization": self.samplewise_std_normalization,
                "featurewise_center": self.featurewise_center,
                "featurewise_std_normalization": self.featurewise_std_normalization,
                "zca_whitening": self.zca_whitening,
            }
            keys = [key for key, on in stages.items() if on]
            if self.rescale and self.rescale != 1:
                keys.insert(0, "rescale")
            if keys:
                raise HintedError(
                    f"dtype {self.dtype} would round and clip the floats that "
                    f"{', '.join(keys)} {'makes' if len(keys) == 1 else 'make'} (rescale "
                    "1/255 leaves only 0s and 1s; centring clips negatives to 0)",
                    "set dtype: float32, or leave it unset: the standardized output is float32",
                )
        for params in (self.bbox_params, self.keypoint_params):
            # Only a list of names can clash; any other label_fields is reported by the
            # bbox_params/keypoint_params check itself, at its own line.
            fields = params.get("label_fields") if isinstance(params, dict) else None
            names = fields if isinstance(fields, (list, tuple)) else ()
            clash = {n for n in names if isinstance(n, str)} & set(self.additional_targets)
            if clash:
                raise ValueError(
                    f"additional_targets {sorted(clash)} also named as label_fields; "
                    "a name is either a target or a label field"
                )
        return self

    # Derived views used by the compiler.
    @property
    def has_keras_augmentation(self) -> bool:
        """True when any random Keras keyword is on."""
        defaults = Spec.model_fields
        return any(getattr(self, k) != defaults[k].default for k in GEOMETRIC_KEYWORDS)

    @property
    def has_standardization(self) -> bool:
        """True when a batch-level step runs after augmentation."""
        return bool(
            self.featurewise_center
            or self.samplewise_center
            or self.featurewise_std_normalization
            or self.samplewise_std_normalization
            or self.zca_whitening
            or self.rescale
            or self.preprocessing_function
        )

    def to_data(self, *, full: bool = False) -> dict[str, Any]:
        """The spec as plain YAML-ready data: only what was set, or every key with ``full``."""
        data = self.model_dump(mode="json", exclude_unset=not full)
        data = {"version": SPEC_VERSION, **{k: v for k, v in data.items() if k != "version"}}
        return data

    def to_yaml(self, *, full: bool = False, modeline: bool | str = False) -> str:
        """The spec as a YAML document (only the keys that were set, unless ``full``).

        ``modeline`` starts it with the editor schema line: ``True`` points at
        ``confaug.schema.json`` next to the config (write it with ``confaug schema -o``), a
        string at that path or URL.
        """
        from confaug.reading.yaml_io import dump_yaml

        if isinstance(modeline, os.PathLike):
            modeline = os.fspath(modeline)
        if not isinstance(modeline, (bool, str)):
            raise TypeError(
                "modeline is True, False or the schema's path or URL (a string), "
                f"got {type(modeline).__name__}"
            )
        if isinstance(modeline, str) and (
            not modeline or not modeline.isprintable() or any(c.isspace() for c in modeline)
        ):
            # The modeline is a comment line, and editors read its path up to a space: a line
            # break would start a line of YAML (a key of the document), a space cut the path.
            raise ValueError(
                "modeline must be a path or URL without spaces, line breaks or other control "
                f"characters, got {modeline!r}"
            )
        body = dump_yaml(self.to_data(full=full))
        if modeline is False:
            return body
        from confaug.resources import SCHEMA_FILE, schema_modeline

        return f"{schema_modeline(SCHEMA_FILE if modeline is True else modeline)}\n{body}"
