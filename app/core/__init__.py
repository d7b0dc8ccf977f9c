"""Plain-Python core: documents, windows, inference, decoding and evaluation. Never imports Qt."""
