"""Icons and other files the window shows, installed as package data of ``reading_assistant.resources``."""
