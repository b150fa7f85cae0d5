"""Deep merge of config mappings and dotted-key overrides."""

from __future__ import annotations

import copy
from typing import Any

from confaug.reading.document import Document


def deep_merge(parent: Any, child: Any) -> Any:
    """Mappings merge key by key (the child wins); anything else is replaced whole."""
    if isinstance(parent, dict) and isinstance(child, dict):
        merged = dict(parent)
        for key, value in child.items():
            merged[key] = deep_merge(parent[key], value) if key in parent else value
        return merged
    return child


def merge_documents(parent: Document, child: Document) -> Document:
    """``child`` over ``parent``, keeping each value's own file position."""
    data = deep_merge(copy.deepcopy(parent.data), child.data)
    source_map = parent.source_map.restricted_to(data)
    source_map.update(child.source_map)
    return Document(data, source_map, child.file, parent.chain + child.chain)
