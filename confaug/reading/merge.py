"""Deep merge of config mappings: mappings merge key by key (the child wins), the rest is
replaced whole."""

from __future__ import annotations

from typing import Any


def deep_merge(parent: Any, child: Any) -> Any:
    """``child`` over ``parent`` as new data; neither is changed."""
    if isinstance(parent, dict) and isinstance(child, dict):
        merged = dict(parent)
        for key, value in child.items():
            merged[key] = deep_merge(parent[key], value) if key in parent else value
        return merged
    return child


def merge_into(target: dict[str, Any], child: dict[str, Any]) -> None:
    """Merge ``child`` over ``target`` in place, as :func:`deep_merge` would.

    ``child``'s values are put into ``target`` as they are (not copied), so a later merge
    may change them: each document of a load is merged once (``extends.Resolver``). The work
    is that of walking ``child``, whatever the size of ``target``.
    """
    todo = [(target, child)]
    while todo:
        into, source = todo.pop()
        for key, value in source.items():
            old = into.get(key)
            if isinstance(old, dict) and isinstance(value, dict):
                todo.append((old, value))
            else:
                into[key] = value
