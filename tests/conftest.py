"""Shared fixtures: tiny real models built once per test session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.tiny_models import export_bert, export_distilbert, wordpiece_tokenizer

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app writes only to its own per-user folders; in tests those live in a throwaway folder, so a
# test run neither reads a developer's settings nor leaves logs in their home.
_USER_FOLDERS = Path(tempfile.mkdtemp(prefix="reading-assistant-tests-"))
for _variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
    os.environ[_variable] = str(_USER_FOLDERS / _variable.lower())


@pytest.fixture(scope="session")
def shared_wordpiece():
    return wordpiece_tokenizer()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory, shared_wordpiece) -> Path:
    return export_bert(tmp_path_factory.mktemp("tiny_bert"), tokenizer=shared_wordpiece)


@pytest.fixture(scope="session")
def tiny_bert_fixed(tmp_path_factory, shared_wordpiece) -> Path:
    """The same weights as ``tiny_bert`` exported OpenVINO-style: 1x384 inputs, output_s/output_e."""
    return export_bert(
        tmp_path_factory.mktemp("tiny_bert_fixed"),
        output_names=("output_s", "output_e"),
        fixed_length=384,
        tokenizer=shared_wordpiece,
    )


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory) -> Path:
    return export_distilbert(tmp_path_factory.mktemp("tiny_distilbert"))
