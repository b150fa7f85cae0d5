"""What a valid spec costs to run: the time and memory of one image, bounded at load.

The per-number bounds (±1e9, 32,767) keep a value from overflowing, not a transform from
hanging: ``GlassBlur(iterations=32767)`` is a small number that takes minutes and gigabytes
per image. So every step's cost is estimated for a **reference image of 1024×1024×3** from
what its parameters make the transform do (output pixels, kernel sides, iterations × pixels,
counts of drawn objects), and a spec is refused at load when the estimate passes a budget:

- ``WORK_BUDGET_MS``: the whole pipeline, about two seconds of one core for the reference
  image (the estimates are upper bounds of what albumentations 2.0.8 took on a 2-core
  development machine, float32 or uint8, whichever was slower);
- ``MAX_IMAGE_PIXELS``: no step may make an image larger than 4096×4096 from it;
- ``MEMORY_BUDGET``: no step may need more than 1 GiB of arrays for it;
- ``MAX_APPLIED``: no image goes through more than 1,000 transforms (``SomeOf`` with
  ``replace`` repeats its children).

Each transform family has one cost model (``cost_rules.RULES``): pixel-wise steps cost their
measured time per megapixel; resizes and pads cost their output; filters their kernel's side
(and their kernel's memory); iterated and drawn effects their counts. A transform without a
rule costs ``_DEFAULT_MS`` per reference image. The estimate does not depend on the data: a
config that passes runs the reference image within the budget, and costs grow with the
image as any augmentation's do.

The time budget is the caller's to raise, never a config's: ``time_budget=`` on the loaders,
``--time-budget`` on the command line (``check_time_budget``). The hint of a config over it
names that knob as the caller spells it (``budget_option``, set by the CLI).
"""

from __future__ import annotations

import math
import warnings
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from confaug.reading.document import KeyPath, dotted
from confaug.spec.catalog import catalog, to_opencv
from confaug.spec.cost_rules import (
    REFERENCE,
    REFERENCE_SIDE,
    RULES,
    Shape,
    StepCost,
    pixelwise,
    reach_ms,
)
from confaug.spec.model import Spec
from confaug.spec.steps import TransformStep
from confaug.spec.vocab import BORDER_MODES

WORK_BUDGET_MS = 2000.0
#: The default time budget, in seconds, and the most a caller may raise it to (an hour per
#: reference image is no augmentation; past it, the estimate's own bounds say more).
DEFAULT_TIME_BUDGET = WORK_BUDGET_MS / 1000
MAX_TIME_BUDGET = 3600.0
MAX_IMAGE_PIXELS = 4096 * 4096
MEMORY_BUDGET = 1 << 30
MAX_APPLIED = 1000
#: Listed steps in a config (composites and their children): each costs ~1 ms to check and
#: build, so 1,000 are about a second before anything runs.
MAX_STEPS = 1000

KERAS_MS = 60.0  # the Keras keywords' step (one cv2.warpAffine, lanczos the slowest)
_DEFAULT_MS = 60.0  # a transform with no rule: about the slower pixel-wise ones
_STEP_MS = 0.1  # albumentations' own work per step and image


#: How the caller raises the time budget, as the hint of a config over it says it
#: (``{seconds}``: the budget the whole pipeline needs). Python callers pass ``time_budget=``;
#: the CLI sets its own flag for the duration of a load (``cli.common.load_checked``).
budget_option: ContextVar[str] = ContextVar(
    "confaug_budget_option",
    default="if you trust this config, pass time_budget={seconds} to load it",
)


def check_time_budget(value: object) -> float:
    """``value`` as a time budget in seconds: a number in (0, ``MAX_TIME_BUDGET``]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"time_budget must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not (0 < seconds <= MAX_TIME_BUDGET):  # NaN fails too
        raise ValueError(
            f"time_budget must be more than 0 and at most {MAX_TIME_BUDGET:g} seconds, "
            f"got {value!r}"
        )
    return seconds


@dataclass
class Estimate:
    """The cost of a pipeline for the reference image, and its problems.

    ``problems`` are those no budget of the caller's lifts (image size, memory, counts); a
    step over the time budget is in ``slow`` (the first one of its walk), judged once the
    whole pipeline's time is known, so the hint can name the budget it needs.
    """

    ms: float = 0.0
    applied: int = 0
    problems: dict[KeyPath, str] = field(default_factory=dict)
    slow: dict[KeyPath, str] = field(default_factory=dict)
    hints: dict[KeyPath, str] = field(default_factory=dict)

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.setdefault(path, message)

    def too_slow(self, path: KeyPath, message: str) -> None:
        if not self.slow:
            self.slow[path] = message


# ---- the walk -------------------------------------------------------------------------

#: Cost evaluations one estimate makes at most: composites that repeat their children
#: (SomeOf with replace, nested) are evaluated once per pick.
MAX_EVALUATIONS = 20_000


def estimate(spec: Spec, time_budget: float = DEFAULT_TIME_BUDGET) -> Estimate:
    """The cost of a valid spec for the reference image, and the problems of its budgets.

    ``time_budget`` is in seconds (``check_time_budget``). The first step past a budget is
    the problem (later ones would only repeat it); steps that each pass but together do not
    are a problem at ``transforms``. A time problem carries a hint (``Estimate.hints``)
    naming the budget the whole pipeline would need, when a caller may grant it.
    """
    budget_ms = check_time_budget(time_budget) * 1000
    base: KeyPath = ("transforms",)
    walker = _Walker(budget_ms)
    result = walker.run(list(spec.transforms), base)
    if spec.has_keras_augmentation:  # one warp, a brightness and a channel shift
        keras = KERAS_MS + reach_ms(_keras_reach(spec), BORDER_MODES[spec.fill_mode], REFERENCE)
        result.ms += keras
        walker.costs[("the Keras keywords",)] = keras
    if result.problems:  # no budget lifts these: a time hint would mislead
        result.slow.clear()
        return result
    if not result.slow and result.ms > budget_ms:
        costliest = sorted(walker.costs.items(), key=lambda item: -item[1])[:3]
        named = ", ".join(f"{dotted(path)} ~{ms / 1000:.1f} s" for path, ms in costliest)
        result.too_slow(
            base,
            f"the pipeline would take about {result.ms / 1000:.1f} s for a 1024×1024 image, "
            f"past the budget of {budget_ms / 1000:g} s a pipeline has (the costliest: "
            f"{named})",
        )
    for path, message in result.slow.items():
        result.problem(path, message)
        hint = _budget_hint(result.ms)
        if hint is not None:
            result.hints[path] = hint
    return result


def _budget_hint(ms: float) -> str | None:
    """How the caller would grant the whole pipeline's ``ms`` (None when no budget can)."""
    seconds = math.ceil(ms / 1000) if math.isfinite(ms) else math.inf
    if seconds > MAX_TIME_BUDGET:
        return None
    return budget_option.get().format(seconds=seconds)


def _keras_reach(spec: Spec) -> float:
    """How many image sizes away the Keras warp samples: its zoom out, plus its shifts."""
    zoom = _largest(spec.zoom_range)
    zoom = 1 + zoom if not isinstance(spec.zoom_range, list) else zoom
    shift = 0.0
    for value in (spec.width_shift_range, spec.height_shift_range):
        far = _largest(value)
        shift = max(shift, far / REFERENCE_SIDE if far >= 1 else far)
    return zoom + shift


def _largest(value: Any) -> float:
    if isinstance(value, list):
        return max((abs(float(v)) for v in value), default=0.0)
    return abs(float(value)) if isinstance(value, (int, float)) else 0.0


class _Walker:
    """Walks the steps once, building each transform once."""

    def __init__(self, budget_ms: float) -> None:
        self.budget_ms = budget_ms
        self.built: dict[int, Any] = {}
        self.costs: dict[KeyPath, float] = {}
        self.evaluations = 0

    def run(self, steps: list[TransformStep], base: KeyPath) -> Estimate:
        result = Estimate()
        self.sequence(steps, base, result, REFERENCE)
        return result

    def sequence(
        self, steps: list[TransformStep], base: KeyPath, result: Estimate, shape: Shape
    ) -> Shape:
        for index, step in enumerate(steps):
            if result.problems:
                break
            shape = self.step(step, (*base, index, step.name), result, shape)
        return shape

    def step(self, step: TransformStep, path: KeyPath, result: Estimate, shape: Shape) -> Shape:
        info = catalog().get(step.name)
        if info is None:
            return shape
        result.applied += 1
        self.evaluations += 1
        if result.applied > MAX_APPLIED or self.evaluations > MAX_EVALUATIONS:
            result.problem(path, f"an image would go through more than {MAX_APPLIED:,} transforms")
            return shape
        if step.transforms is not None:
            return self.composite(step, path, result, shape)
        transform = self.transform(info.cls, step)
        if transform is None:
            return shape
        cost = RULES.get(step.name, pixelwise(_DEFAULT_MS))(transform, shape)
        _judge(step, path, cost, result, self.budget_ms)
        ms = cost.ms + _STEP_MS
        result.ms += ms
        # Named by the top-level step it belongs to: a composite's children add up there.
        top = path[:3]
        self.costs[top] = self.costs.get(top, 0.0) + ms
        return cost.shape

    def composite(
        self, step: TransformStep, path: KeyPath, result: Estimate, shape: Shape
    ) -> Shape:
        children = list(step.transforms or ())
        base = (*path, "transforms")
        if step.name == "Sequential":
            return self.sequence(children, base, result, shape)
        if step.name == "SelectiveChannelTransform":
            chosen = len(step.params.get("channels", [0, 1, 2]))
            made = self.sequence(children, base, result, Shape(shape.height, shape.width, chosen))
            return Shape(made.height, made.width, shape.channels)
        picks = 1  # OneOf, OneOrOther: one child
        if step.name in ("SomeOf", "RandomOrder"):
            n = int(step.params.get("n", 1))
            picks = n if step.params.get("replace", False) else min(n, len(children))
            if result.applied + picks > MAX_APPLIED:
                at = (*path, "n") if "n" in step.params else path
                result.problem(
                    at,
                    f"{step.name} would apply {picks:,} transforms to each image; an image "
                    f"goes through at most {MAX_APPLIED:,}",
                )
                return shape
        # Each pick may be any child: the worst one's time and the largest image, per pick.
        for _ in range(picks):
            applied_before = result.applied
            worst_ms, worst_applied, made = 0.0, result.applied, shape
            for index, child in enumerate(children):
                branch = Estimate(applied=result.applied)
                made = made.union(self.step(child, (*base, index, child.name), branch, shape))
                worst_ms = max(worst_ms, branch.ms)
                worst_applied = max(worst_applied, branch.applied)
                for where, message in branch.problems.items():
                    result.problem(where, message)
                for where, message in branch.slow.items():
                    result.too_slow(where, message)
            result.ms += worst_ms
            result.applied = worst_applied
            if result.problems:
                return made
            if made == shape and picks > 1:  # the same size every pick: each costs as much
                result.ms += worst_ms * (picks - 1)
                result.applied += (worst_applied - applied_before) * (picks - 1)
                return made
            shape = made
        return shape

    def transform(self, cls: type, step: TransformStep) -> Any:
        """The transform (its attributes hold the parameters as albumentations reads them)."""
        key = id(step)
        if key not in self.built:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.built[key] = cls(**to_opencv(step.params))
            except Exception:  # validation reported it already
                self.built[key] = None
        return self.built[key]


def _judge(
    step: TransformStep, path: KeyPath, cost: StepCost, result: Estimate, budget_ms: float
) -> None:
    """A problem when one step passes a budget, placed at the parameter that drives it."""
    given = cost.driver is not None and cost.driver in step.params
    at = (*path, cost.driver) if given and cost.driver else path
    what = step.name
    if given and cost.driver:
        what += f" with {cost.driver} {_shown(step.params[cost.driver])}"
    if not math.isfinite(cost.shape.pixels) or cost.shape.pixels > MAX_IMAGE_PIXELS:
        result.problem(
            at,
            f"{what} would make an image of {_size(cost.shape)} from a 1024×1024 one; images "
            f"stop at {MAX_IMAGE_PIXELS / 1e6:.1f} megapixels (4096×4096)",
        )
    elif not math.isfinite(cost.memory) or cost.memory > MEMORY_BUDGET:
        result.problem(
            at,
            f"{what} would need about {_bytes(cost.memory)} of memory for a 1024×1024 image; "
            f"a step may need at most {_bytes(MEMORY_BUDGET)}",
        )
    elif not math.isfinite(cost.ms) or cost.ms > budget_ms:
        result.too_slow(
            at,
            f"{what} would take {_seconds(cost.ms)} for a 1024×1024 image, past the "
            f"budget of {budget_ms / 1000:g} s a pipeline has",
        )


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _size(shape: Shape) -> str:
    return f"{shape.height:,.0f}×{shape.width:,.0f} pixels × {shape.channels:,.0f} channels"


def _bytes(size: float) -> str:
    if not math.isfinite(size) or size >= 2**50:
        return "more than a petabyte"
    return f"{size / 2**30:,.1f} GiB" if size >= 2**28 else f"{size / 2**20:,.0f} MiB"


def _seconds(ms: float) -> str:
    if not math.isfinite(ms) or ms >= 3.6e9:
        return "more than a thousand hours"
    return f"about {ms / 1000:,.1f} s"
