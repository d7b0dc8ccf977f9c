"""Stopping long work when asked: every long step (loading, making a document, tokenizing, reading,
indexing) asks ``should_stop`` at least every 100 ms or so of its work, and raises ``Cancelled`` when
it says stop. A request's deadline is folded into the same check by its caller.

A step over a whole book is done a slice of its text (``slices``) or a batch of items (``checked``)
at a time: one regular expression or one C call over 50 MB holds the interpreter for a second, and
nothing can stop it meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from .errors import Cancelled

StopCheck = Callable[[], bool]
T = TypeVar("T")
# Characters of text a step takes between two checks: a simple pass over a megabyte (a regular
# expression, a decoder, a copy) takes a few milliseconds, a Python step per line a few tens.
SLICE_CHARS = 1 << 20
# Items a Python loop takes between two checks (each a few microseconds at most).
CHECK_EVERY = 2048


def check_stop(should_stop: StopCheck | None) -> None:
    """Raise ``Cancelled`` when ``should_stop`` says so."""
    if should_stop is not None and should_stop():
        raise Cancelled("stopped")


def slices(
    text: str | bytes, should_stop: StopCheck | None = None, size: int = SLICE_CHARS, whole_lines: bool = False
) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive slices that cover ``text`` (or bytes), about ``size`` characters
    each, with a stop check before each. No slice ends between a carriage return and its line feed;
    with ``whole_lines`` each ends just after a line break (or at the end), so a line longer than
    ``size`` is one slice."""
    line_feed, line_end = ("\n", "\r\n") if isinstance(text, str) else (b"\n", b"\r\n")
    start = 0
    while start < len(text):
        check_stop(should_stop)
        end = min(len(text), start + size)
        if whole_lines and end < len(text):
            end = text.find(line_feed, end - 1) + 1 or len(text)
        elif text[end - 1 : end + 1] == line_end:
            end += 1
        yield start, end
        start = end


def checked(items: Iterable[T], should_stop: StopCheck | None, every: int = CHECK_EVERY) -> Iterator[T]:
    """The items of ``items``, with a stop check before every ``every`` of them."""
    iterator = iter(items)
    while batch := list(islice(iterator, every)):
        check_stop(should_stop)
        yield from batch
