"""Errors whose message is written for the person using the app, not for a developer."""


class ReadingAssistantError(Exception):
    """Base class: ``str(error)`` is one clear sentence that can be shown as it is."""


class InputError(ReadingAssistantError):
    """The document, the question or a setting cannot be used."""


class ModelError(ReadingAssistantError):
    """The model folder is missing, incomplete or corrupt."""


class Cancelled(ReadingAssistantError):
    """The user stopped the work before it finished."""


class PasswordNeeded(InputError):
    """The file is encrypted: it opens with a password (``wrong`` when the one given did not)."""

    def __init__(self, message: str, wrong: bool = False) -> None:
        super().__init__(message)
        self.wrong = wrong
