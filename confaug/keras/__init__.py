"""Drop-in replacement for Keras' ``ImageDataGenerator``: change only the import line.

    from confaug.keras import ImageDataGenerator

The constructor takes IDG's keywords (validated: a bad value raises ``ConfigError``), and
``flow``, ``flow_from_directory``, ``flow_from_dataframe``, ``fit``, ``standardize``,
``random_transform``, ``get_random_transform`` and ``apply_transform`` behave as in Keras,
running on confaug's one-warp pipeline. ``to_yaml()`` exports the equivalent config.

The ``flow*`` methods return a :class:`KerasIterator`: a ``keras.utils.PyDataset`` when
Keras is installed, so ``model.fit(datagen.flow(x, y))`` works as it does with Keras, and
with the legacy iterators' API (endless ``next()``, ``len()``, ``[i]``, ``on_epoch_end``,
``reset``, ``n``, ``samples``, ``class_indices``, ``filenames``, ...). Keras is imported on
the first ``flow*`` call, never by importing this module.

Keras' own behaviour is kept where confaug's core would differ: ``flow`` takes
``(x, extra_inputs)`` tuples, integer arrays, any channel count (with Keras' warning),
``ignore_class_split``, and float data of any value range (``cval`` and the channel shift
then stay in the data's own units, as in Keras); files are listed with Keras' extensions
and decoded and resized by PIL as ``load_img`` does; ``flow_from_dataframe`` takes the
deprecated ``has_ext``/``sort``/``drop_duplicates`` and ``class_mode="other"``;
``standardize`` works in place on float arrays; ``mean``/``std`` have Keras' shapes and can
be set. The documented defect fixes (shift axes, rotation centre, brightness) stay.
"""

from confaug.keras.flows import KERAS_EXTENSIONS as KERAS_EXTENSIONS
from confaug.keras.generator import ImageDataGenerator
from confaug.keras.iterators import KerasIterator

__all__ = ["ImageDataGenerator", "KerasIterator"]
