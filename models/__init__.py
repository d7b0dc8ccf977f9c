"""The bundled models, installed as package data of ``reading_assistant.models``."""
