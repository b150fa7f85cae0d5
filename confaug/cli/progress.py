"""A small progress bar for stderr: redrawn in place on a terminal, a line per 10 % otherwise."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts finished items of a known total and shows rate and time left.

    ``write`` prints a message above the bar (for reporting a bad file mid-run).
    Thread-safe: workers may call ``advance`` concurrently.
    """

    def __init__(
        self,
        total: int,
        *,
        label: str = "",
        unit: str = "items",
        stream: TextIO | None = None,
        enabled: bool = True,
        width: int = 28,
        interval: float = 0.1,
    ) -> None:
        self.total = max(total, 0)
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.interval = interval
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1
        self._lock = threading.Lock()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = False

    def line(self) -> str:
        """The bar as text, e.g. ``augment  42% |████      | 84/200 images 12.3/s ETA 0:09``."""
        fraction = self.done / self.total if self.total else 1.0
        filled = round(fraction * self.width)
        bar = "█" * filled + " " * (self.width - filled)
        elapsed = time.perf_counter() - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        label = f"{self.label} " if self.label else ""
        return (
            f"{label}{fraction:4.0%} |{bar}| {self.done}/{self.total} {self.unit} "
            f"{rate:.1f}/s ETA {_clock(eta)}"
        )

    def advance(self, count: int = 1) -> None:
        """Mark ``count`` more items done and redraw when due."""
        with self._lock:
            self.done = min(self.done + count, self.total) if self.total else self.done + count
            self._draw(final=False)

    def _draw(self, *, final: bool) -> None:
        if not self.enabled:
            return
        if self._tty:
            now = time.perf_counter()
            if not final and now - self._last_draw < self.interval and self.done < self.total:
                return
            self._last_draw = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self._drawn = True
        else:
            decile = int(10 * self.done / self.total) if self.total else 10
            if decile > self._last_decile or final:
                if decile == self._last_decile and final:
                    return
                self._last_decile = decile
                self.stream.write(self.line() + "\n")
        self.stream.flush()

    def write(self, message: str) -> None:
        """Print ``message`` on its own line without garbling the bar."""
        with self._lock:
            if self._tty and self._drawn:
                self.stream.write("\r\x1b[K")
            self.stream.write(message + "\n")
            if self._tty and self._drawn and self.enabled:
                self.stream.write(self.line())
            self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        with self._lock:
            self._draw(final=True)
            if self.enabled and self._tty and self._drawn:
                self.stream.write("\n")
                self.stream.flush()

    def __enter__(self) -> Progress:
        self._draw(final=False)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
