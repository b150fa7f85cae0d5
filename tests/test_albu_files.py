"""Files written by ``A.save`` load in confaug and give ``A.load``'s output for the same seed.

The parameter lists are in the manner of albumentations' own serialization suite (one
parameter set per class, values away from the defaults), written here for these tests.
"""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError
from confaug.reading.albu_format import DroppedKeysWarning, inherited_keys
from tests.helpers import only_problem, position

A = pytest.importorskip("albumentations")
cv2 = pytest.importorskip("cv2")

SEEDS = (0, 137, 2024)


def _image(dtype: str = "uint8", shape: tuple[int, ...] = (40, 48, 3)) -> np.ndarray:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    return image if dtype == "uint8" else (image / 255.0).astype(np.float32)


def _saved(transform: Any, path: Path, data_format: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # albumentations' own advice on some classes
        A.save(transform, str(path), data_format=data_format)
    return path


def _reference(path: Path, data_format: str) -> Any:
    """A.load's pipeline; a file of one transform in a Compose, as confaug runs it (the
    Compose draws once against its p=1 first, which shifts the stream by one draw)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # A.load's own warning about the dropped keys
        loaded = A.load(str(path), data_format=data_format)
        return loaded if isinstance(loaded, A.Compose) else A.Compose([loaded])


def _same_outputs(path: Path, data_format: str, data: dict[str, np.ndarray]) -> int:
    """Asserts confaug's outputs equal A.load's for SEEDS; returns how many changed data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = confaug.load_pipeline(path)
    reference = _reference(path, data_format)
    changed = 0
    for seed in SEEDS:
        reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
        expected = reference(**{k: v.copy() for k, v in data.items()})
        got = pipe(**{k: v.copy() for k, v in data.items()}, seed=seed)
        for key in data:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{key}, seed {seed}")
        changed += any(got[k].shape != v.shape or (got[k] != v).any() for k, v in data.items())
    return changed


# The seven classes whose A.save files hold keys of a base class, and those keys.
INHERITED: list[tuple[Any, dict[str, Any], set[str]]] = [
    (A.PadIfNeeded, {"min_height": 64, "min_width": 60, "fill": 7}, {"padding"}),
    (
        A.RGBShift,
        {"r_shift_limit": 50, "g_shift_limit": (-10, 30), "b_shift_limit": 25},
        {"noise_type", "noise_params", "approximation", "spatial_mode"},
    ),
    (
        A.SafeRotate,
        {"limit": 100, "interpolation": cv2.INTER_NEAREST, "border_mode": 0, "fill": 9},
        {
            "rotate",
            "scale",
            "shear",
            "translate_percent",
            "translate_px",
            "fit_output",
            "keep_ratio",
            "balanced_scale",
        },
    ),
    (
        A.TimeMasking,
        {"time_mask_param": 12},
        {"num_masks_x", "num_masks_y", "mask_x_length", "mask_y_length", "fill", "fill_mask"},
    ),
    (
        A.FrequencyMasking,
        {"freq_mask_param": 15},
        {"num_masks_x", "num_masks_y", "mask_x_length", "mask_y_length", "fill", "fill_mask"},
    ),
    (A.CenterCrop3D, {"size": (2, 20, 24)}, {"pad_position"}),
    (A.RandomCrop3D, {"size": (3, 30, 30)}, {"pad_position"}),
]


def _data_for(cls: Any) -> dict[str, np.ndarray]:
    if cls in (A.CenterCrop3D, A.RandomCrop3D):
        volume = np.stack([_image()] * 4)
        return {"volume": volume, "mask3d": volume[..., 0].copy()}
    image = _image()
    return {"image": image, "mask": image[..., 0].copy()}


@pytest.mark.parametrize("data_format", ["yaml", "json"])
@pytest.mark.parametrize(
    ("cls", "params", "keys"), INHERITED, ids=lambda v: getattr(v, "__name__", "")
)
def test_inherited_keys_are_dropped_with_a_warning_naming_them(
    in_tmp: Path, cls: Any, params: dict[str, Any], keys: set[str], data_format: str
) -> None:
    path = _saved(A.Compose([cls(p=1.0, **params)]), Path(f"albu.{data_format}"), data_format)
    text = path.read_text()
    assert all(f'"{key}"' in text or f"{key}:" in text for key in keys)  # A.save wrote them
    assert inherited_keys(cls) >= keys  # computed from the class, not listed
    match = f"transforms.0.{cls.__name__}: dropped"
    with pytest.warns(DroppedKeysWarning, match=match) as caught:
        confaug.load_pipeline(path)
    messages = [str(w.message) for w in caught if "dropped" in str(w.message)]
    assert len(messages) == 1
    named = {
        part.strip("'") for part in messages[0].split(": dropped ")[1].split(":")[0].split(", ")
    }
    assert named == keys
    assert messages[0].startswith(f"albu.{data_format}:")
    assert _same_outputs(path, data_format, _data_for(cls)) > 0


def test_the_cli_shows_a_dropped_key_as_a_line_about_the_file(in_tmp: Path, cli: Any) -> None:
    path = _saved(A.Compose([A.PadIfNeeded(min_height=50, min_width=50)]), Path("a.yaml"), "yaml")
    code, _, err = cli("validate", str(path))
    assert code == 0
    (line,) = [line for line in err.splitlines() if "dropped" in line]
    assert line.startswith("warning: a.yaml:") and "'padding'" in line
    assert "UserWarning" not in err and "albu_format.py" not in err


def test_a_typo_beside_the_inherited_keys_stays_an_error(in_tmp: Path) -> None:
    path = _saved(A.Compose([A.PadIfNeeded(min_height=50, min_width=50)]), Path("a.json"), "json")
    saved = json.loads(path.read_text())
    saved["transform"]["transforms"][0]["paddin"] = 3
    path.write_text(json.dumps(saved, indent=1))
    with pytest.raises(ConfigError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confaug.load_pipeline(path)
    problem = only_problem(err)
    assert problem.field == "transforms.0.PadIfNeeded.paddin"
    assert problem.message == "unknown parameter of PadIfNeeded"
    assert (problem.line, problem.column) == position(path.read_text(), '"paddin"')


def test_confaugs_own_format_refuses_an_inherited_key_and_says_why() -> None:
    config = {"version": 1, "transforms": [{"SafeRotate": {"limit": 10, "rotate": 5}}]}
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(config)
    problem = only_problem(err)
    assert problem.message == "unknown parameter of SafeRotate"
    assert problem.hint is not None and "base class" in problem.hint


def _nested() -> Any:
    return A.Compose(
        [
            A.OneOrOther(
                A.Compose([A.RandomRotate90(), A.OneOf([A.HorizontalFlip(), A.VerticalFlip()])]),
                A.Compose(
                    [A.Rotate(limit=30, p=0.5), A.OneOf([A.HueSaturationValue(), A.RGBShift()])],
                    p=0.8,
                ),
            ),
            A.Compose([A.RandomSizedCrop(min_max_height=(20, 40), size=(32, 32), p=1)], p=0.6),
            A.SomeOf(
                [A.HorizontalFlip(p=1), A.D4(p=1), A.RandomBrightnessContrast(p=0.5)],
                n=2,
                replace=False,
            ),
            A.Sequential([A.Blur(p=0.6), A.Compose([A.ToGray(p=0.5)])], p=0.9),
        ]
    )


@pytest.mark.parametrize("data_format", ["yaml", "json"])
def test_a_nested_compose_loads_and_matches_a_load(in_tmp: Path, data_format: str) -> None:
    path = _saved(_nested(), Path(f"albu.{data_format}"), data_format)
    pipe = confaug.load_pipeline(path)
    assert [step.name for step in pipe.spec.transforms] == [
        "OneOrOther",
        "Sequential",
        "SomeOf",
        "Sequential",
    ]
    changed = 0
    for shape in ((40, 48, 3), (48, 48, 3)):
        image = _image(shape=shape)
        data = {"image": image, "mask": image[..., 1].copy()}
        changed += _same_outputs(path, data_format, data)
    assert changed >= 4


def test_a_nested_compose_with_the_outer_bbox_params_matches_a_load(in_tmp: Path) -> None:
    compose = A.Compose(
        [A.Compose([A.HorizontalFlip(), A.Affine(rotate=20, p=0.7)]), A.RandomRotate90()],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )
    path = _saved(compose, Path("albu.yaml"), "yaml")
    assert path.read_text().count("bbox_params:") == 2  # A.save repeats them inside
    pipe = confaug.load_pipeline(path)
    reference = _reference(path, "yaml")
    image = _image()
    boxes = [[4, 6, 30, 20], [10, 10, 40, 38]]
    for seed in SEEDS:
        reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
        expected = reference(image=image, bboxes=boxes, labels=[1, 2])
        got = pipe(image=image, bboxes=boxes, labels=[1, 2], seed=seed)
        np.testing.assert_array_equal(got["image"], expected["image"])
        np.testing.assert_allclose(np.asarray(got["bboxes"]), np.asarray(expected["bboxes"]))
        assert list(got["labels"]) == list(expected["labels"])


def test_a_nested_compose_option_confaug_cannot_follow_is_located(in_tmp: Path) -> None:
    path = _saved(
        A.Compose([A.Compose([A.Blur()], additional_targets={"d": "mask"})]), Path("a.yaml"), "yaml"
    )
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(path)
    problem = only_problem(err)
    assert problem.field == "transforms.0.Sequential.additional_targets"
    assert "nested Compose" in problem.message
    assert problem.file == "a.yaml" and problem.line is not None


def test_load_pipeline_takes_a_to_dict_mapping() -> None:
    compose = _nested()
    pipe = confaug.load_pipeline(A.to_dict(compose))
    image = _image()
    for seed in SEEDS:
        compose.set_random_state(np.random.default_rng(seed), random.Random(seed))
        expected = compose(image=image)["image"]
        np.testing.assert_array_equal(pipe(image=image, seed=seed)["image"], expected)
    assert (
        confaug.load_spec(A.to_dict(A.HorizontalFlip(p=1))).transforms[0].name == "HorizontalFlip"
    )


def test_a_to_dict_mapping_with_a_bad_value_is_a_config_error() -> None:
    saved = A.to_dict(A.Compose([A.Blur(p=0.5)]))
    saved["transform"]["transforms"][0]["p"] = 2
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(saved)
    assert only_problem(err).field == "transforms.0.Blur.p"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("rotation_range: 90\n", "rotation_range"),
        ("preprocessing_function: scale\n", "preprocessing_function"),
    ],
)
def test_keys_beside_transform_are_named(in_tmp: Path, extra: str, needle: str) -> None:
    path = _saved(A.Compose([A.HorizontalFlip()]), Path("albu.yaml"), "yaml")
    text = path.read_text() + extra
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(path)
    problem = only_problem(err)
    assert problem.field == needle
    assert "only __version__ and transform" in problem.message
    assert (problem.file, problem.line, problem.column) == ("albu.yaml", *position(text, needle))


def test_keys_beside_transform_in_a_mapping_are_named() -> None:
    saved = {**A.to_dict(A.HorizontalFlip()), "horizontal_flip": True}
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(saved)
    assert only_problem(err).field == "horizontal_flip"


# A representative set: geometry with every kind of mask handling, colour, noise, dropout,
# crops that change the size. Each runs with p=0.5 as the suite's does.
REPRESENTATIVE: list[tuple[Any, dict[str, Any]]] = [
    (A.Affine, {"scale": (0.8, 1.2), "rotate": (-20, 20), "shear": 5, "border_mode": 4}),
    (A.ShiftScaleRotate, {"shift_limit": 0.1, "rotate_limit": 25, "border_mode": 0, "fill": 3}),
    (A.ElasticTransform, {"alpha": 30, "sigma": 5}),
    (A.GridDistortion, {"num_steps": 4, "distort_limit": 0.4}),
    (A.OpticalDistortion, {"distort_limit": 0.3}),
    (A.Perspective, {"scale": (0.05, 0.1), "keep_size": True}),
    (A.Downscale, {"scale_range": (0.4, 0.6)}),
    (A.RandomResizedCrop, {"size": (30, 30), "scale": (0.4, 1.0)}),
    (A.CropAndPad, {"px": (-5, 6), "keep_size": False}),
    (A.RandomGridShuffle, {"grid": (2, 3)}),
    (A.ColorJitter, {"brightness": 0.3, "contrast": 0.2, "saturation": 0.4, "hue": 0.1}),
    (A.HueSaturationValue, {"hue_shift_limit": 15, "sat_shift_limit": 25, "val_shift_limit": 10}),
    (A.RandomGamma, {"gamma_limit": (70, 140)}),
    (A.CLAHE, {"clip_limit": 3, "tile_grid_size": (4, 4)}),
    (A.GaussNoise, {"std_range": (0.05, 0.2), "per_channel": False}),
    (A.ISONoise, {"color_shift": (0.02, 0.06), "intensity": (0.2, 0.4)}),
    (A.MotionBlur, {"blur_limit": (3, 7), "allow_shifted": False}),
    (A.ImageCompression, {"quality_range": (40, 70)}),
    (
        A.CoarseDropout,
        {"num_holes_range": (2, 4), "hole_height_range": (4, 8), "hole_width_range": (3, 9)},
    ),
    (A.GridDropout, {"ratio": 0.4, "unit_size_range": (8, 12)}),
    (A.Solarize, {"threshold_range": (0.3, 0.6)}),
    (A.ChannelShuffle, {}),
    (A.Posterize, {"num_bits": (3, 5)}),
]


@pytest.mark.parametrize(
    ("cls", "params"), REPRESENTATIVE, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_representative_set_matches_a_load(
    in_tmp: Path, cls: Any, params: dict[str, Any]
) -> None:
    data_format = "json" if len(params) % 2 else "yaml"
    path = _saved(cls(p=0.5, **params), Path(f"albu.{data_format}"), data_format)
    image = _image()
    assert _same_outputs(path, data_format, {"image": image, "mask": image[..., 2].copy()}) > 0


def test_seeding_maps_onto_set_random_state(in_tmp: Path) -> None:
    """The README's recipe: ``pipe(..., seed=s)`` is A.load's Compose seeded with
    ``set_random_state(np.random.default_rng(s), random.Random(s))``; albumentations' own
    ``set_random_seed(s)`` is not what confaug does (it correlates the steps)."""
    compose = A.Compose([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5), A.GaussNoise(p=0.5)])
    path = _saved(compose, Path("albu.yaml"), "yaml")
    pipe = confaug.load_pipeline(path)
    reference = _reference(path, "yaml")
    image = _image()
    differs_from_set_random_seed = 0
    for seed in range(8):
        reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
        np.testing.assert_array_equal(
            pipe(image=image, seed=seed)["image"], reference(image=image)["image"]
        )
        reference.set_random_seed(seed)
        differs_from_set_random_seed += not np.array_equal(
            pipe(image=image, seed=seed)["image"], reference(image=image)["image"]
        )
    assert differs_from_set_random_seed > 0


# Float images: a cubic or Lanczos kernel overshoots [0, 1], and so does a fill above 1;
# confaug clips the result back into the input's range (the README says so), every other
# value is albumentations' own.
OVERSHOOTING: list[tuple[Any, dict[str, Any]]] = [
    (A.Affine, {"rotate": (10, 30), "interpolation": cv2.INTER_CUBIC, "p": 1.0}),
    (A.SafeRotate, {"limit": (15, 40), "interpolation": cv2.INTER_LANCZOS4, "p": 1.0}),
    (A.Resize, {"height": 60, "width": 70, "interpolation": cv2.INTER_CUBIC, "p": 1.0}),
    # A fill is in the image's own units: 3 on a [0, 1] image is 3.0 in albumentations.
    (A.Affine, {"rotate": (20, 30), "border_mode": cv2.BORDER_CONSTANT, "fill": 3, "p": 1.0}),
]


@pytest.mark.parametrize(("cls", "params"), OVERSHOOTING, ids=lambda v: getattr(v, "__name__", ""))
def test_float_outputs_are_clipped_to_the_input_range(
    in_tmp: Path, cls: Any, params: dict[str, Any]
) -> None:
    path = _saved(A.Compose([cls(**params)]), Path("albu.yaml"), "yaml")
    pipe = confaug.load_pipeline(path)
    reference = _reference(path, "yaml")
    image = _image("float32")
    reference.set_random_state(np.random.default_rng(1), random.Random(1))
    expected = reference(image=image)["image"]
    got = pipe(image=image, seed=1)["image"]
    assert expected.min() < 0.0 or expected.max() > 1.0  # albumentations overshoots
    assert got.dtype == np.float32 and got.min() >= 0.0 and got.max() <= 1.0
    np.testing.assert_array_equal(got, np.clip(expected, 0.0, 1.0))


def test_float_outputs_inside_the_range_are_albumentations_own(in_tmp: Path) -> None:
    compose = A.Compose([A.Affine(rotate=(-20, 20), p=1.0), A.RandomBrightnessContrast(p=1.0)])
    path = _saved(compose, Path("albu.yaml"), "yaml")
    pipe = confaug.load_pipeline(path)
    reference = _reference(path, "yaml")
    image = _image("float32")
    for seed in SEEDS:
        reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
        expected = reference(image=image)["image"]
        assert expected.min() >= 0.0 and expected.max() <= 1.0
        np.testing.assert_array_equal(pipe(image=image, seed=seed)["image"], expected)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_a_step_that_sets_the_range_is_not_clipped(in_tmp: Path, dtype: str) -> None:
    path = _saved(A.Compose([A.HorizontalFlip(), A.Normalize()]), Path("albu.yaml"), "yaml")
    image = _image(dtype)
    reference = _reference(path, "yaml")
    reference.set_random_state(np.random.default_rng(3), random.Random(3))
    expected = reference(image=image)["image"]
    assert expected.min() < 0.0  # far outside [0, 1]: Normalize sets the range
    np.testing.assert_array_equal(
        confaug.load_pipeline(path)(image=image, seed=3)["image"], expected
    )


COMPOSITES: list[Any] = [
    A.OneOf([A.Blur(), A.MedianBlur(blur_limit=5), A.ToGray()], p=0.8),
    A.SomeOf([A.Blur(), A.HorizontalFlip(), A.InvertImg()], n=2, replace=True, p=0.9),
    A.RandomOrder([A.Blur(), A.HorizontalFlip(), A.ToGray()], n=2, p=0.9),
    A.OneOrOther(A.Blur(), A.VerticalFlip(), p=0.7),
    A.Sequential([A.Transpose(), A.Solarize()], p=0.6),
    A.SelectiveChannelTransform([A.Solarize(p=0.6), A.InvertImg()], p=0.8),
]


@pytest.mark.parametrize("composite", COMPOSITES, ids=lambda c: type(c).__name__)
def test_every_composite_in_a_file_matches_a_load(in_tmp: Path, composite: Any) -> None:
    path = _saved(A.Compose([composite]), Path("albu.json"), "json")
    image = _image()
    assert _same_outputs(path, "json", {"image": image, "mask": image[..., 0].copy()}) > 0


def test_a_step_without_p_gets_a_loads_p(in_tmp: Path) -> None:
    """A.load gives a step without ``p`` 0.5, whatever its class's default (PadIfNeeded's
    is 1.0), and a nested Compose its own 1.0."""
    text = (
        "__version__: 2.0.8\n"
        "transform:\n"
        "  __class_fullname__: Compose\n"
        "  transforms:\n"
        "  - {__class_fullname__: PadIfNeeded, min_height: 60, min_width: 60}\n"
        "  - __class_fullname__: Compose\n"
        "    transforms: [{__class_fullname__: HorizontalFlip}]\n"
    )
    Path("albu.yaml").write_text(text)
    pipe = confaug.load_pipeline("albu.yaml")
    first, nested = pipe.spec.transforms
    assert first.params["p"] == 0.5 and nested.params["p"] == 1.0
    assert nested.transforms is not None and nested.transforms[0].params["p"] == 0.5
    image = _image()
    assert _same_outputs(Path("albu.yaml"), "yaml", {"image": image}) > 0


def test_a_confaug_config_extends_an_albumentations_file(in_tmp: Path) -> None:
    """The fix the error for a key beside ``transform`` suggests."""
    _saved(A.Compose([A.HorizontalFlip(p=0.5)]), Path("albu.yaml"), "yaml")
    Path("aug.yaml").write_text("version: 1\nextends: albu.yaml\nrotation_range: 90\n")
    spec = confaug.load_spec("aug.yaml")
    assert spec.rotation_range == 90
    assert [step.name for step in spec.transforms] == ["HorizontalFlip"]


# ---- hostile and old files (review h11) --------------------------------------------------


FLIP_IMAGE = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)


def _compose_file(path: Path, steps: list[Any], **options: Any) -> Path:
    root = {"__class_fullname__": "Compose", "p": 1.0, "transforms": steps, **options}
    path.write_text(json.dumps({"__version__": "2.0.8", "transform": root}, indent=1))
    return path


@pytest.mark.parametrize(
    "name",
    ["os.system", "builtins.eval", "os.HorizontalFlip", "trap.Blur", "trap.albumentations.Blur"],
)
def test_a_class_outside_albumentations_is_refused_by_name(
    in_tmp: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("trap.py").write_text("open('imported', 'w').close()\n")  # a module that tells
    monkeypatch.syspath_prepend(str(in_tmp))
    path = _compose_file(Path("a.json"), [{"__class_fullname__": name, "p": 1.0}])
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(path)
    problem = only_problem(err)
    assert "outside albumentations" in problem.message and problem.field == "transforms.0"
    assert (problem.line, problem.column) == position(path.read_text(), f'"{name}"')
    assert not Path("imported").exists()  # looked up by name only


def test_a_root_outside_albumentations_is_refused(in_tmp: Path) -> None:
    Path("a.json").write_text(
        json.dumps({"__version__": "2", "transform": {"__class_fullname__": "x.Compose"}})
    )
    with pytest.raises(ConfigError, match=r"'x\.Compose' names a class outside albumentations"):
        confaug.load_pipeline("a.json")


def test_an_albumentations_dotted_name_loads_as_a_load_loads_it(in_tmp: Path) -> None:
    step = {"__class_fullname__": "albumentations.augmentations.transforms.HorizontalFlip"}
    path = _compose_file(Path("a.json"), [{**step, "p": 1.0}])
    out = confaug.load_pipeline(path)(image=FLIP_IMAGE, seed=0)["image"]
    assert np.array_equal(out, FLIP_IMAGE[:, ::-1])


def test_always_apply_false_of_a_1x_file_is_dropped_as_a_load_drops_it(in_tmp: Path) -> None:
    steps = [
        {"__class_fullname__": "HorizontalFlip", "always_apply": False, "p": 0.5},
        {"__class_fullname__": "Blur", "always_apply": False, "p": 0.5, "blur_limit": [3, 5]},
    ]
    path = _compose_file(Path("old.json"), steps)
    with pytest.warns(DroppedKeysWarning, match=r"transforms.1.Blur: dropped 'always_apply'"):
        confaug.load_pipeline(path)
    assert _same_outputs(path, "json", {"image": _image()}) > 0


def test_always_apply_true_is_refused_with_the_fix(in_tmp: Path) -> None:
    step = {"__class_fullname__": "HorizontalFlip", "always_apply": True, "p": 0.5}
    path = _compose_file(Path("old.json"), [step])
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(path)
    problem = only_problem(err)
    assert problem.field == "transforms.0.HorizontalFlip.always_apply"
    assert "always_apply: true" in problem.message and "p: 1" in (problem.hint or "")


def test_strict_true_loads_and_then_drops_nothing(in_tmp: Path) -> None:
    flip = {"__class_fullname__": "HorizontalFlip", "p": 0.5}
    assert confaug.load_pipeline(_compose_file(Path("s.json"), [flip], strict=True))
    padded = {"__class_fullname__": "PadIfNeeded", "min_height": 9, "min_width": 9, "padding": 0}
    path = _compose_file(Path("p.json"), [padded], strict=True)
    with pytest.raises(ConfigError) as err, warnings.catch_warnings():
        warnings.simplefilter("error", DroppedKeysWarning)  # nothing dropped
        confaug.load_pipeline(path)
    problem = only_problem(err)  # as A.load raises with strict=True
    assert problem.field == "transforms.0.PadIfNeeded.padding"
    assert "strict: true" in (problem.hint or "")
    with pytest.raises(ConfigError, match="strict must be true or false"):
        confaug.load_pipeline(_compose_file(Path("t.json"), [flip], strict="yes"))


@pytest.mark.parametrize("transform", ["null", "[]", "{transforms: []}"])
def test_a_broken_transform_beside_version_is_named_as_such(in_tmp: Path, transform: str) -> None:
    text = f"__version__: 2.0.8\ntransform: {transform}\n"
    Path("a.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("a.yaml")
    problem = only_problem(err)
    assert problem.field == "transform" and "__class_fullname__" in problem.message
    assert (problem.line, problem.column) == position(text, transform)


def test_a_nested_compose_without_p_gets_a_loads_p_by_its_written_name(in_tmp: Path) -> None:
    flip = {"__class_fullname__": "HorizontalFlip", "p": 1.0}
    for name in ("Compose", "albumentations.core.composition.Compose"):  # 1.0, then 0.5
        path = _compose_file(Path("n.json"), [{"__class_fullname__": name, "transforms": [flip]}])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = A.load(str(path), data_format="json")
        assert confaug.load_pipeline(path).compose.transforms[0].p == loaded.transforms[0].p
        assert _same_outputs(path, "json", {"image": _image()}) >= 0


@pytest.mark.parametrize("steps", [3, 300])
def test_a_saved_pipeline_is_re_rooted_in_one_pass_whatever_its_length(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, steps: int
) -> None:
    """Converting an ``A.save`` file moves every step's positions in one pass over the
    source map: moving them step by step rescanned the whole map per parameter, quadratic in
    the file's steps (1,000 steps took 5 s). Positions still land on the right line."""
    from confaug.reading.document import SourceMap
    from tests.helpers import count_calls

    transforms = [{"__class_fullname__": "HorizontalFlip", "p": 0.5} for _ in range(steps)]
    transforms[-1]["p"] = 7.5  # out of range: the error must point at this line
    saved = {
        "__version__": "2.0.8",
        "transform": {"__class_fullname__": "Compose", "p": 1.0, "transforms": transforms},
    }
    text = json.dumps(saved, indent=1)
    path = tmp_path / "albu.json"
    path.write_text(text, "utf-8")
    passes = count_calls(monkeypatch, SourceMap, "rerooted")
    with pytest.raises(ConfigError) as err:
        confaug.load_spec(path)
    assert passes.value == 1
    problem = only_problem(err)
    assert problem.line == position(text, "7.5")[0]
