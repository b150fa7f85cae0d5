"""Batching: order, shuffling, epochs, seeds, sharding, workers and prefetch.

A sample's randomness comes only from ``(seed, epoch, index)``, so batches are identical for
any number of workers. Heavy frameworks are never imported here.
"""

from confaug.batching.collate import PerSample
from confaug.batching.factory import flow, flow_from_dataframe, flow_from_directory, wrap
from confaug.batching.generator import BatchGenerator
from confaug.batching.loader import SampleError
from confaug.batching.protocol import SamplePipeline
from confaug.batching.stream import AugmentedStream
from confaug.batching.workers import WorkerProcessDied

__all__ = [
    "AugmentedStream",
    "BatchGenerator",
    "PerSample",
    "SampleError",
    "SamplePipeline",
    "WorkerProcessDied",
    "flow",
    "flow_from_dataframe",
    "flow_from_directory",
    "wrap",
]
