"""Progress of long work on a terminal: `done/total`, the elapsed time and an estimate of the
time left, on one line of stderr rewritten in place.

`Progress(total, label)` is shown only when `enabled` (default: the stream is a terminal and
`LACTOJAX_PROGRESS` is not "0"; `LACTOJAX_PROGRESS=1` forces it, e.g. under `tee`). The
estimate is the mean time per unit after the first update, because the first unit carries the
JIT compilation (seconds to a minute) and would make every estimate too long.

Work done in a few unequal stages (one compiled solve, then a table, then a plot) shows the
current stage as a `note` after the count (`set(done, note="solving")`; a new note is drawn at
once) and can leave the estimate out (`eta=False`): the time of one stage says nothing about
the next.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def progress_wanted(stream: TextIO | None = None) -> bool:
    """True when progress should be drawn on `stream` (default stderr)."""
    flag = os.environ.get("LACTOJAX_PROGRESS", "").strip()
    if flag in ("0", "1"):
        return flag == "1"
    stream = sys.stderr if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)())


def format_duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`."""
    s = max(0.0, float(seconds))
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


class Progress:
    """A progress line. `update(n)` adds n units done; `set(done)` sets the count; `close()`
    ends the line; `clear()` erases it (to print something else). Use as a context manager.
    Redraws at most every `interval_s` seconds (a new `note`, the current stage, at once).
    eta=False: no time-left estimate (unequal stages)."""

    def __init__(self, total: int, label: str, unit: str = "", enabled: bool | None = None,
                 stream: TextIO | None = None, interval_s: float = 0.5, done: int = 0, eta: bool = True):
        self.total = max(int(total), 0)
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_wanted(self.stream) if enabled is None else bool(enabled)
        self.interval_s = interval_s
        self.show_eta = bool(eta)
        self.note = ""
        self.start_done = self.done = int(done)  # resumed work counts as done, not as speed
        self.t0 = time.perf_counter()
        self._t_first = None  # time and count at the first update: the rate excludes compilation
        self._n_first = 0
        self._last_draw = -1.0
        self._width = 0
        self._closed = False
        self._drawn = None  # the text last drawn

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def eta_s(self) -> float | None:
        """Seconds left at the mean rate since the first update, or None before two updates."""
        if self._t_first is None or self.done <= self._n_first:
            return None
        rate = (time.perf_counter() - self._t_first) / (self.done - self._n_first)
        return rate * max(self.total - self.done, 0)

    def restart_estimate(self) -> None:
        """Measure the rate from now on (the count so far took no time for the estimate): for
        work that compiled before its first unit, so that the first unit counts too."""
        self._t_first, self._n_first = time.perf_counter(), self.done

    def line(self, final: bool = False) -> str:
        pct = f" ({100 * self.done / self.total:.0f} %)" if self.total else ""
        text = f"{self.label}: {self.done}/{self.total}{(' ' + self.unit) if self.unit else ''}{pct}, " \
               f"{format_duration(time.perf_counter() - self.t0)} elapsed"
        eta = self.eta_s()
        if self.done < self.total and self.show_eta:
            text += f", about {format_duration(eta)} left" if eta is not None else ", estimating time left"
        if self.note and not (final and self.done >= self.total):  # the stage, until the last line
            text += f": {self.note}"
        return text

    def set(self, done: int, note: str | None = None) -> None:
        self.done = int(done)
        if self._t_first is None and self.done > self.start_done:
            self._t_first, self._n_first = time.perf_counter(), self.done
        new_note = note is not None and note != self.note
        if note is not None:
            self.note = note
        self._draw(now=new_note)

    def update(self, n: int = 1, note: str | None = None) -> None:
        self.set(self.done + n, note)

    def _draw(self, final: bool = False, now: bool = False) -> None:
        if not self.enabled or self._closed:
            return
        t = time.perf_counter()
        if not (final or now) and t - self._last_draw < self.interval_s and self.done < self.total:
            return
        self._last_draw = t
        text = self.line(final)
        if final and text == self._drawn:  # the line is already up to date: end it
            self.stream.write("\n")
            self.stream.flush()
            return
        self._drawn = text
        pad = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + pad + ("\n" if final else ""))
        self.stream.flush()

    def clear(self) -> None:
        """Erase the line, e.g. before printing other output; the next `set` draws it again."""
        if self.enabled and not self._closed and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
            self._last_draw = -1.0

    def close(self) -> None:
        self._draw(final=True)
        self._closed = True


__all__ = ["Progress", "format_duration", "progress_wanted"]
