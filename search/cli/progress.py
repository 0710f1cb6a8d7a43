"""Progress: the line `kensaku index` and a building `kensaku search` keep up to date on a
terminal while they index: documents done, the share done, the time left (from the average pace
since the start, which counts the pauses in which segments are written), the document just read;
then "finishing" while the last segments are written and the index made durable, which takes a
while on a large folder after the last document is read."""

from __future__ import annotations

import time
from typing import TextIO

from search.cli.terminal import fit, printable

REDRAW_SECONDS = 0.1
# The time left is a guess from the pace so far: none is shown before this much has passed.
ESTIMATE_AFTER_SECONDS = 1.0


class ProgressLine:
    """Call it as index.Progress (done, total, document); `close()` erases the line."""

    def __init__(self, stream: TextIO, width: int) -> None:
        self._stream = stream
        self._width = width
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, document) -> None:
        now = time.monotonic()
        if done < total and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        self._draw(self.describe(done, total, document.source, now - self._started))

    @staticmethod
    def describe(done: int, total: int, source: str, elapsed: float) -> str:
        """The line for `done` of `total` documents after `elapsed` seconds."""
        head = f"indexing {done:,}/{total:,} documents {done * 100 // max(total, 1):3d}%"
        if done >= total:
            return f"{head}  finishing: writing the index…"
        if elapsed >= ESTIMATE_AFTER_SECONDS and done:
            left = elapsed / done * (total - done)
            return f"{head}  {_clock(elapsed)} elapsed, about {_clock(left)} left  {source}"
        return f"{head}  {source}"

    def _draw(self, line: str) -> None:
        self._stream.write("\r" + fit(printable(line), self._width - 1) + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
