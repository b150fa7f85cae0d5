"""Functions a config may name: registered from Python, never imported from a config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_FUNCTIONS: dict[str, Callable[..., Any]] = {}


def register(
    name: str | Callable[..., Any] | None = None, function: Callable[..., Any] | None = None
) -> Any:
    """Make ``function`` available to configs as ``preprocessing_function: NAME``.

    Use as ``confaug.register("my_fn", my_fn)``, ``@confaug.register`` (the function's own
    name) or ``@confaug.register("my_fn")``. Registering a different function under a taken
    name raises ``ValueError``.
    """
    if callable(name) and function is None:
        return register(name.__name__, name)
    if function is None:

        def decorator(fn: F) -> F:
            register(name if isinstance(name, str) else fn.__name__, fn)
            return fn

        return decorator
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a registered name must be an identifier, got {name!r}")
    existing = _FUNCTIONS.get(name)
    if existing is not None and existing is not function:
        raise ValueError(f"'{name}' is already registered to {existing!r}; unregister it first")
    _FUNCTIONS[name] = function
    return function


def register_as_available(function: Callable[..., Any]) -> str:
    """Register ``function`` under its own name, or a numbered variant when that is taken by
    another function (lambdas become ``preprocessing_function``), and return the name used."""
    base = getattr(function, "__name__", "")
    if not base.isidentifier():
        base = "preprocessing_function"
    name, number = base, 1
    while _FUNCTIONS.get(name) not in (None, function):
        number += 1
        name = f"{base}_{number}"
    _FUNCTIONS[name] = function
    return name


def unregister(name: str) -> None:
    """Forget a registered name (no error when absent)."""
    _FUNCTIONS.pop(name, None)


def lookup(name: str) -> Callable[..., Any] | None:
    """The function registered under ``name``, or None."""
    return _FUNCTIONS.get(name)


def registered_names() -> list[str]:
    """Every registered name, sorted."""
    return sorted(_FUNCTIONS)
