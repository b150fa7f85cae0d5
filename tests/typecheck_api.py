"""Calls mypy must refuse: a static test of confaug's typed public signatures.

Not collected by pytest (no ``test_`` prefix); mypy checks it (``[tool.mypy] files``). Each
line that must be an error carries its ``type: ignore[code]``: with ``warn_unused_ignores``,
mypy fails the moment it stops seeing one of these errors.
"""

import numpy as np

import confaug
from confaug.batching.generator import BatchGenerator

pipe = confaug.load_pipeline({"version": 1})
x = np.zeros((4, 8, 8, 3), np.uint8)
pipe.flow(x, batch_size="3")  # type: ignore[arg-type]
pipe.flow(x, batchsize=3)  # type: ignore[call-arg]
pipe.flow(x, on_error="skipp")  # type: ignore[arg-type]
pipe.flow_from_directory("d", workers=2.5)  # type: ignore[arg-type]
pipe.wrap([x], worker=2)  # type: ignore[call-arg]
confaug.flow(x, pipe, batchsize=3)  # type: ignore[call-arg]
confaug.flow_from_dataframe("t.csv", pipe, x_col=1)  # type: ignore[arg-type]
confaug.flow(x, pipeline=pipe)  # type: ignore[call-arg]
confaug.load_spec(3)  # type: ignore[arg-type]

# What must stay accepted.
ok: BatchGenerator = pipe.flow(x, batch_size=3, on_error="skip")
spec: confaug.Spec = confaug.load_spec({"version": 1}, overrides=["rotation_range=5"])
