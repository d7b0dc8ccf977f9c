"""Reading Assistant: ask questions about a document, answered offline by an extractive QA model."""

import os

# The one version of the app: the package metadata (pyproject's dynamic version), --version and the
# window's About all read it here.
__version__ = "0.2.0"

# Privacy by construction: onnxruntime reads this when it is first imported and then neither writes
# its device id and telemetry database under ~/.cache nor contacts Microsoft's telemetry host.
# Calling onnxruntime.disable_telemetry_events() after the import is too late for the files. Every
# entry point (window, command line, frozen app, tests) imports this package before onnxruntime.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
