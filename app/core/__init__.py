"""Plain-Python core: documents, windows, inference, decoding, ranking and the model store. Never imports Qt."""
