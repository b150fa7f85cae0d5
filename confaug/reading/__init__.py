"""Reading configs (layer 1): safe YAML with the position of every node, ``extends``, overrides.

``yaml_io`` parses one YAML text within size, nesting and alias limits; ``document`` holds the
plain data with its source map (``Mark`` per key and value) and the helpers that place a
problem; ``extends`` reads files and follows parent chains inside the allowed roots;
``merge`` merges a parent under a child; ``overrides`` applies dotted ``key=value``
overrides; ``plain`` holds data from Python to a file's limits; ``albu_format`` converts
files written by albumentations' ``A.save``; ``compose`` puts these together. The output is
plain data plus a source map: nothing here knows the spec's models.
"""

from confaug.reading.compose import ConfigSource, load_document
from confaug.reading.document import Document, KeyPath, Mark, SourceMap
from confaug.reading.overrides import Overrides

__all__ = ["ConfigSource", "Document", "KeyPath", "Mark", "Overrides", "SourceMap", "load_document"]
