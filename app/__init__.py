"""Reading Assistant: ask questions about a document, answered offline by an extractive QA model."""

__version__ = "0.1.0"
