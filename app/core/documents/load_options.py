"""What a loader of a paged format (PDF, images) is told beyond the file: a password, and where to
report progress and ask whether to stop (reading scans by OCR takes seconds a page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import Cancelled


@dataclass(frozen=True)
class LoadOptions:
    password: str | None = field(default=None, repr=False)
    # (done, total, what): "reading page 3 of 38 by OCR"
    on_progress: Callable[[int, int, str], None] | None = None
    should_stop: Callable[[], bool] | None = None

    def report(self, done: int, total: int, what: str) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, what)

    def check_stop(self) -> None:
        """Raise Cancelled when the reader has asked to stop."""
        if self.should_stop is not None and self.should_stop():
            raise Cancelled("stopped")


NO_OPTIONS = LoadOptions()
