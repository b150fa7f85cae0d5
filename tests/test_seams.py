"""The seams between layers hold for the real objects, not only for the stand-ins tests use.

The type checker (``mypy``, run by CI) checks the same seam statically: ``Pipeline.flow``
passes the pipeline itself where batching expects a ``SamplePipeline``.
"""

from __future__ import annotations

import inspect

import numpy as np

import confaug
from confaug.batching.protocol import SamplePipeline
from tests.helpers import one_image


def test_the_compiled_pipeline_is_a_sample_pipeline() -> None:
    pipe = confaug.load_pipeline("preset:keras_seed")
    assert isinstance(pipe, SamplePipeline)
    # data_format is read-only on both sides: a protocol attribute would demand a setter.
    assert isinstance(inspect.getattr_static(SamplePipeline, "data_format"), property)
    assert isinstance(inspect.getattr_static(type(pipe), "data_format"), property)
    parameters = inspect.signature(pipe.__call__).parameters
    assert parameters["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["seed"].default is None
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def test_the_compiled_pipeline_keeps_the_protocols_promises() -> None:
    pipe: SamplePipeline = confaug.load_pipeline("preset:keras_seed")
    image = one_image((24, 32))
    first = pipe(image=image, seed=5)
    assert set(first) == {"image"}
    assert first["image"].dtype == image.dtype and first["image"].shape == image.shape
    assert np.array_equal(first["image"], pipe(image=image, seed=5)["image"])
    batch = np.stack([first["image"]] * 2)
    assert pipe.standardize(batch).shape == batch.shape
    assert pipe.data_format == "channels_last"
