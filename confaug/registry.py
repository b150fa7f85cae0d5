"""Functions a config may name: registered from Python, never imported from a config.

Two kinds of entries:

- **named** ones, which the program registers with :func:`register` under a name it chooses
  (an identifier), for its configs to name; they stay until :func:`unregister`;
- **owned** ones, made by :func:`register_owned` for a function handed over as an object
  (the Keras drop-in's ``preprocessing_function=lambda x: ...``): a spec has to hold a name,
  so the function gets one — ``<its own name>@<64 random bits>``, which no config can guess
  and no :func:`register` name can take — and the entry lasts only as long as its owner
  (the spec made for it): when the owner is garbage-collected, the name is gone. Owned names
  are not offered in :func:`registered_names` (so never suggested in a hint).
"""

from __future__ import annotations

import secrets
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_FUNCTIONS: dict[str, Callable[..., Any]] = {}
_OWNED: dict[str, Callable[..., Any]] = {}
_OWNED_LOCK = threading.Lock()  # finalizers run in whatever thread collects the owner


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
        if name is not None and not isinstance(name, str):
            raise TypeError(
                "register takes a name and a function, a function, or a name (as a "
                f"decorator), got {type(name).__name__} {name!r:.80}"
            )

        def decorator(fn: F) -> F:
            register(name if isinstance(name, str) else fn.__name__, fn)
            return fn

        return decorator
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a registered name must be an identifier, got {name!r}")
    if not callable(function):
        # Refused here, not at the first batch, where it failed as "x[0]: pipeline failed:
        # TypeError: 'int' object is not callable", far from the mistake.
        raise TypeError(
            f"register('{name}', ...) takes a function to call on each image, "
            f"got {type(function).__name__} {function!r:.80}"
        )
    existing = _FUNCTIONS.get(name)
    if existing is not None and existing is not function:
        raise ValueError(f"'{name}' is already registered to {existing!r}; unregister it first")
    _FUNCTIONS[name] = function
    return function


def register_owned(function: Callable[..., Any], owner: object) -> str:
    """Give ``function`` a name for as long as ``owner`` lives, and return it.

    The name is ``<function's name>@<16 hex digits>`` (``preprocessing_function@…`` for a
    lambda): unguessable, so no config can name it, and not an identifier, so no
    :func:`register` name can collide with it. It is released when ``owner`` (which must
    support weak references) is collected.
    """
    base = getattr(function, "__name__", "")
    if not base.isidentifier():
        base = "preprocessing_function"
    name = f"{base}@{secrets.token_hex(8)}"
    with _OWNED_LOCK:
        _OWNED[name] = function
    weakref.finalize(owner, _release, name)
    return name


def _release(name: str) -> None:
    with _OWNED_LOCK:
        _OWNED.pop(name, None)


def unregister(name: str) -> None:
    """Forget a registered name (no error when absent); owned names too."""
    _FUNCTIONS.pop(name, None)
    _release(name)


def lookup(name: str) -> Callable[..., Any] | None:
    """The function registered under ``name`` (named or owned), or None."""
    function = _FUNCTIONS.get(name)
    if function is None:
        with _OWNED_LOCK:
            function = _OWNED.get(name)
    return function


def registered_names() -> list[str]:
    """Every name registered with :func:`register`, sorted (owned names are private)."""
    return sorted(_FUNCTIONS)


def owned_count() -> int:
    """How many owned names are alive (each one's owner not yet collected)."""
    with _OWNED_LOCK:
        return len(_OWNED)
