"""The Qt window. Qt stays here; the engine it drives lives in app.core."""
