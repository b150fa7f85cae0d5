"""Drop-in replacement for Keras' ``keras.preprocessing.image``: change only the import line.

    from confaug.keras import ImageDataGenerator
    import confaug.keras as image          # for keras.preprocessing.image as image

The module has Keras' whole legacy image API:

- ``ImageDataGenerator``: the constructor takes IDG's keywords (validated: a bad value
  raises ``ConfigError``), and ``flow``, ``flow_from_directory``, ``flow_from_dataframe``,
  ``fit``, ``standardize``, ``random_transform``, ``get_random_transform`` and
  ``apply_transform`` behave as in Keras, running on confaug's one-warp pipeline.
  ``to_yaml()`` exports the equivalent config.
- the iterators: the ``flow*`` methods return a :class:`KerasIterator` (a
  ``keras.utils.PyDataset`` when Keras is installed, so ``model.fit(datagen.flow(x, y))``
  works) with the legacy iterators' API (endless ``next()`` and ``.next()``, ``len()``,
  ``[i]``, ``on_epoch_end``, ``reset``, ``n``, ``samples``, ``class_indices``,
  ``filenames``, ...); ``NumpyArrayIterator``, ``DirectoryIterator`` and
  ``DataFrameIterator`` build the same with Keras' constructors, and ``Iterator`` is
  Keras' base class for hand-written iterators.
- the free functions ``random_rotation``, ``random_shift``, ``random_shear``,
  ``random_zoom``, ``random_channel_shift``, ``apply_channel_shift``,
  ``random_brightness``, ``apply_brightness_shift``, ``apply_affine_transform``,
  ``transform_matrix_offset_center`` and ``flip_axis`` (one OpenCV warp per image), and the
  image utilities ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``,
  ``list_pictures`` and ``validate_filename`` (PIL; Keras not needed).

Keras is imported on the first iterator, never by importing this module. ``seed=None``
follows NumPy's global random state (``np.random.seed``, ``keras.utils.set_random_seed``).
Keras' own behaviour is kept where confaug's core would differ: ``flow`` takes
``(x, extra_inputs)`` tuples, integer arrays, any channel count (with Keras' warning),
``ignore_class_split``, and float data of any value range (``cval`` and the channel shift
then stay in the data's own units, as in Keras); files are listed with Keras' extensions
and decoded and resized by PIL as ``load_img`` does; ``flow_from_dataframe`` takes the
deprecated ``has_ext``/``sort``/``drop_duplicates`` and ``class_mode="other"``, returns
``raw``/``multi_output`` targets in the table's own dtype, and an empty iterator when no
row is usable; ``standardize`` works in place on float arrays; ``mean``/``std`` have
Keras' shapes and can be set; error messages hold Keras' wording. The documented defect
fixes (shift axes, rotation centre, brightness without 8-bit rounding) stay.
"""

from confaug.keras.flows import KERAS_EXTENSIONS as KERAS_EXTENSIONS
from confaug.keras.functions import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
    transform_matrix_offset_center,
)
from confaug.keras.generator import ImageDataGenerator
from confaug.keras.image_utils import (
    ImageFileError,
    MissingImageError,
    array_to_img,
    img_to_array,
    list_pictures,
    load_img,
    save_img,
    validate_filename,
)
from confaug.keras.iterator_base import Iterator
from confaug.keras.iterator_classes import (
    DataFrameIterator,
    DirectoryIterator,
    NumpyArrayIterator,
)
from confaug.keras.iterators import KerasIterator

__all__ = [
    "DataFrameIterator",
    "DirectoryIterator",
    "ImageDataGenerator",
    "ImageFileError",
    "Iterator",
    "KerasIterator",
    "MissingImageError",
    "NumpyArrayIterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "array_to_img",
    "flip_axis",
    "img_to_array",
    "list_pictures",
    "load_img",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
    "save_img",
    "transform_matrix_offset_center",
    "validate_filename",
]
