"""One lock for every pdfium call in the process.

pdfium keeps global state and is not thread-safe, not even across two documents: the loader (on a
worker thread), the page renderer and the OCR of scanned pages all take this lock around each call
(or short run of calls), so the window's renderer and a load never meet inside pdfium.
"""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
