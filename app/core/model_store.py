"""The reader's models: the bundled one plus those added to ``data_dir()/models``, each known by name.

``add_model`` takes a local Hugging Face checkpoint (exported to ONNX and quantized to int8 by the
``Converter`` its caller passes in: the command line's runs ``training.convert``, which needs the
``models`` extra, so the store itself never imports torch or optimum), an ONNX folder (optimum's
layout or OpenVINO's fixed 1x384 one), or a model id that ``huggingface_hub`` downloads (only when
asked, and only then does anything leave the machine). Every model is checked before it is kept:
it must open (``ModelFolder.open`` and ``open_engine`` check its settings, tokenizer and ONNX
signature) and answer a known question; what was measured is kept for ``list_models``.

``resolve_model`` is the one place a ``--model`` value (a name or a folder) becomes a folder.

The store is its own: names are whole strings of a few safe characters, a stored model holds
copies of its files (never links, and its settings name only files inside it), ``remove`` deletes
only what is inside the store (a link is removed, never followed), and one lock file per name
keeps two adds or removes of one model from running at once.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

from .errors import InputError, ModelError, ReadingAssistantError
from .evidence import percent
from .hub import download
from .model_folder import CONFIG_NAME, GPU_MODEL_NAME, TOKENIZER_NAME, ModelFolder
from .model_shape import OFFSET_POSITIONS, read_shape, read_small_json
from .options import Choices, ModelConfig, check_model_file
from .paths import BUNDLED_MODEL_NAME, bundled_model_dir, data_dir
from .store_lock import name_lock

# Whole strings only (``fullmatch``): "$" would let a name end in a newline.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# A Hugging Face model id: "name" or "owner/name".
MODEL_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?")
WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)
CHECKS_FOLDER = ".checks"
STAGING_PREFIX = ".adding-"
MAX_SEQ_LEN = 384
# Files of an ONNX folder worth keeping: the model (and external weights), tokenizer, configs, card.
KEPT_SUFFIXES = (".onnx", ".onnx_data", ".json", ".txt", ".md", ".model")
# Opcodes that only a quantized graph holds (ONNX stores op types as plain strings).
QUANTIZED_OPS = (b"DynamicQuantizeLinear", b"MatMulInteger", b"QAttention", b"DynamicQuantizeMatMul", b"QLinearMatMul")

# The known question every model is checked on, with a few more for int8-versus-fp32 agreement.
CHECK_TEXT = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on radioactivity. "
    "She was born in Warsaw, Poland, in 1867 and moved to Paris in 1891 to study. "
    "She was the first woman to win a Nobel Prize, in 1903, and won a second one in 1911. "
    "Her husband Pierre Curie shared the first prize with her and with Henri Becquerel. "
    "The quick brown fox jumps over the lazy dog near the river bank. "
    "Paris is the capital of France; the Seine flows through the city."
)
CHECK_QUESTION = "Where was Marie Curie born?"
AGREEMENT_QUESTIONS = (
    CHECK_QUESTION,
    "When did she win her first Nobel Prize?",
    "Who shared the first prize with her?",
    "What flows through Paris?",
)
SPEED_REPEATS = 8  # the check text repeated, so the speed is measured over several windows
# Every window in order, for the best answer alone.
CHECK_CHOICES = Choices(top_k=1)

Log = Callable[[str], None]
# Exports a Hugging Face checkpoint to an int8 ONNX folder: (checkpoint, scratch folder for the fp32
# export, int8 folder, log). It raises ModelError when it cannot run here (the models extra missing).
Converter = Callable[[Path, Path, Path, Log], None]


@dataclass(frozen=True)
class CheckReport:
    """What ``check_model`` measured: the model answers, how fast, how big, how close to its fp32 form."""

    name: str
    question: str
    answer: str
    score: float
    ms_per_window: float
    windows: int
    seq_len: int
    device: str
    size_bytes: int
    int8: bool
    agreement: tuple[int, int] | None = None  # top answers that match the fp32 model's, of how many
    checked: float = 0.0  # when, seconds since the epoch

    def lines(self) -> list[str]:
        answer = f'"{self.answer}" ({percent(self.score)})' if self.answer else "no answer"
        if self.agreement is None:
            agreement = "no fp32 model to compare with" if self.int8 else "not needed (an fp32 model)"
        else:
            agreement = f"{self.agreement[0]}/{self.agreement[1]} top answers agree"
        return [
            f"  answers: {answer} to {self.question!r}",
            f"  speed: {self.ms_per_window:.1f} ms per window on {self.device} ({self.seq_len}-token windows)",
            f"  size: {_megabytes(self.size_bytes)} ({'int8' if self.int8 else 'fp32'})",
            f"  int8 vs fp32: {agreement}",
        ]


@dataclass(frozen=True)
class StoredModel:
    """A model the reader can choose by name (what the Settings dialog lists)."""

    name: str
    folder: Path
    bundled: bool
    size_bytes: int
    ms_per_window: float | None  # measured here by add or check; None until then
    source: str = ""

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "folder": str(self.folder),
            "bundled": self.bundled,
            "size_bytes": self.size_bytes,
            "ms_per_window": self.ms_per_window,
            "source": self.source,
        }


def store_dir() -> Path:
    """Where added models live: one folder per model, named as the model."""
    return data_dir() / "models"


# -- listing and resolving ------------------------------------------------------------------


def list_models() -> list[StoredModel]:
    """The bundled model first, then the added ones by name."""
    found = []
    bundled = bundled_model_dir()
    if bundled.is_dir():
        found.append(_stored(BUNDLED_MODEL_NAME, bundled, bundled=True))
    root = store_dir()
    if root.is_dir():
        for folder in sorted(root.iterdir(), key=lambda p: p.name.lower()):
            if _is_model_folder(folder) and NAME_PATTERN.fullmatch(folder.name) and folder.name != BUNDLED_MODEL_NAME:
                found.append(_stored(folder.name, folder, bundled=False))
    return found


def _is_link(path: Path) -> bool:
    """A symbolic link, or a Windows junction (which ``is_symlink`` does not see)."""
    return path.is_symlink() or bool(getattr(os.path, "isjunction", lambda _: False)(path))


def _is_model_folder(path: Path) -> bool:
    """A real folder of the store: a link to a folder elsewhere is not a stored model."""
    return not _is_link(path) and path.is_dir()


def find_model(name: str) -> StoredModel:
    for model in list_models():
        if model.name == name:
            return model
    known = ", ".join(m.name for m in list_models()) or "none"
    raise ModelError(f"no model named {name!r} (models: {known}; see 'reading-assistant models list')")


def resolve_model(value: str | os.PathLike | None) -> Path:
    """The folder a ``--model`` value means: an existing folder, else a model's name; None is the bundled model."""
    if value is None:
        bundled = bundled_model_dir()
        if not bundled.is_dir():
            raise ModelError(f"no bundled model at {bundled}: give a model name or folder with --model")
        return bundled
    path = Path(value).expanduser()
    if path.is_dir():
        return path
    text = os.fspath(value)
    if NAME_PATTERN.fullmatch(text):
        return _usable_model(text).folder
    raise ModelError(f"model folder not found: {path}")


def _usable_model(name: str) -> StoredModel:
    """A model to run: a stored one holds copies of its files, as added; a link inside it could lead anywhere."""
    model = find_model(name)
    for item in () if model.bundled else model.folder.iterdir():
        if _is_link(item):
            raise ModelError(
                f"the stored model {model.name} holds a link ({item.name}): remove it and add the model again"
            )
    return model


def _stored(name: str, folder: Path, bundled: bool) -> StoredModel:
    record = _read_record(name)
    return StoredModel(
        name=name,
        folder=folder,
        bundled=bundled,
        size_bytes=_folder_size(folder),
        ms_per_window=record.get("ms_per_window") if isinstance(record.get("ms_per_window"), float) else None,
        source=str(record.get("source", "bundled with the app" if bundled else "")),
    )


def _record_path(name: str) -> Path:
    return store_dir() / CHECKS_FOLDER / f"{name}.json"


def _read_record(name: str) -> dict:
    try:
        record = json.loads(_record_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_record(name: str, report: CheckReport, source: str | None = None) -> None:
    record = {**_read_record(name), **asdict(report)}
    if source is not None:
        record["source"] = source
    path = _record_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")


# -- removing --------------------------------------------------------------------------------


def remove_model(name: str) -> Path:
    """Delete a stored model's folder; a link in the store is removed itself, never what it points to."""
    if name == BUNDLED_MODEL_NAME:
        raise InputError(f"{name} is the bundled model: it cannot be removed")
    root = store_dir()
    path = root / name
    if not NAME_PATTERN.fullmatch(name) or not os.path.lexists(path):
        find_model(name)  # no such model: says so, with the names there are
    with name_lock(root, name, "remove"):
        try:
            if _is_link(path):
                _remove_link(path)
            elif path.is_dir():
                shutil.rmtree(path)  # removes the links it meets; never follows one
            else:
                find_model(name)  # gone meanwhile, or not a folder
            _record_path(name).unlink(missing_ok=True)
        except OSError as error:
            raise ModelError(f"cannot remove {name}: {error.strerror or error}") from None
    return path


def _remove_link(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    else:
        os.rmdir(path)  # a junction: rmdir removes the junction, not the folder it names


# -- checking --------------------------------------------------------------------------------


def check_model(name: str, device: str = "auto", log: Log | None = None) -> CheckReport:
    """Run a model already in the store (or the bundled one) on the known question and keep the figures."""
    model = _usable_model(name)
    reference = _read_record(name).get("agreement")
    report = measure(model.folder, device, name=name)
    if report.agreement is None and isinstance(reference, list) and len(reference) == 2:
        report = replace(report, agreement=(int(reference[0]), int(reference[1])))  # measured when it was added
    _write_record(name, report)
    return report


def measure(folder: Path, device: str = "auto", fp32: Path | None = None, name: str = "") -> CheckReport:
    """Open a model folder as the app does, answer the known question, time it, compare with fp32."""
    from .engine import open_engine  # onnxruntime only when a model is run

    engine = open_engine(folder, device)
    try:
        first = engine.ask(CHECK_TEXT, CHECK_QUESTION, CHECK_CHOICES)
        document = "\n\n".join([CHECK_TEXT] * SPEED_REPEATS)
        engine.ask(document, CHECK_QUESTION, CHECK_CHOICES)  # warm-up, and the document is tokenized once
        started = time.perf_counter()
        timed = engine.ask(document, CHECK_QUESTION, CHECK_CHOICES)
        seconds = time.perf_counter() - started
    except ReadingAssistantError as error:
        raise ModelError(f"the model in {folder} cannot answer: {error}") from None
    best = first.answers[0] if first.answers else None
    if best is not None and not math.isfinite(best.score):
        raise ModelError(f"the model in {folder} gives invalid scores")
    int8 = is_quantized(engine.folder.onnx_path)
    agreement = None
    if fp32 is None and int8:
        fp32 = _fp32_sibling(engine.folder)
    if fp32 is not None and int8:
        agreement = _agreement(engine, fp32)
    return CheckReport(
        name=name or engine.name,
        question=CHECK_QUESTION,
        answer=best.text if best else "",
        score=float(best.score) if best else 0.0,
        ms_per_window=1000 * seconds / max(timed.windows, 1),
        windows=timed.windows,
        seq_len=engine.resolve(CHECK_CHOICES).windows.seq_len,
        device=engine.placement,
        size_bytes=_folder_size(folder),
        int8=int8,
        agreement=agreement,
        checked=time.time(),
    )


def _fp32_sibling(folder: ModelFolder) -> Path | None:
    """optimum's layout keeps model.onnx beside model_quantized.onnx: the fp32 model to compare with."""
    plain = folder.path / "model.onnx"
    if folder.onnx_path.name != "model.onnx" and plain.is_file() and not is_quantized(plain):
        return plain
    return None


def _agreement(engine, fp32: Path) -> tuple[int, int]:
    """How many of the agreement questions get the same top answer (span) from the fp32 model."""
    from .engine import QAEngine

    # The fp32 model read exactly as the int8 one: same tokenizer, same windows. It is the adder's
    # own export (or the folder's own model.onnx), so it is opened as it is, not as a model folder.
    windows = engine.resolve(CHECK_CHOICES).windows
    settings = replace(
        engine.config,
        onnx_file=fp32.name,
        seq_len=windows.seq_len,
        query_len=windows.query_len,
        doc_stride=windows.doc_stride,
    )
    reference = QAEngine(ModelFolder(fp32.parent, fp32, engine.folder.tokenizer_path, settings), "cpu")
    same = 0
    for question in AGREEMENT_QUESTIONS:
        ours = engine.ask(CHECK_TEXT, question, CHECK_CHOICES).answers[:1]
        theirs = reference.ask(CHECK_TEXT, question, CHECK_CHOICES).answers[:1]
        same += [(a.start, a.end) for a in ours] == [(a.start, a.end) for a in theirs]
    return same, len(AGREEMENT_QUESTIONS)


def is_quantized(onnx_path: Path) -> bool:
    """Whether an ONNX graph holds integer-quantized operators (read a chunk at a time)."""
    tail = b""
    longest = max(len(op) for op in QUANTIZED_OPS)
    with open(onnx_path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if any(op in window for op in QUANTIZED_OPS):
                return True
            tail = window[-longest:]
    return False


# -- adding ----------------------------------------------------------------------------------


def add_model(
    source: str,
    name: str | None = None,
    device: str = "auto",
    log: Log | None = None,
    converter: Converter | None = None,
) -> tuple[StoredModel, CheckReport]:
    """Add a checkpoint folder, an ONNX folder or a model id to the store, checked; return it and its report.

    A checkpoint needs ``converter``; without one it is refused with a sentence saying so.
    """
    log = log or (lambda message: None)
    path = Path(source).expanduser()
    model_id = None
    if not path.exists():
        if not MODEL_ID_PATTERN.fullmatch(source):
            raise InputError(f"no such folder: {source} (give a model folder or a Hugging Face model id)")
        model_id = source
    elif not path.is_dir():
        raise InputError(f"{source} is not a folder (give a model folder or a Hugging Face model id)")
    name = name if name is not None else _default_name(model_id or path.resolve().name)
    if not NAME_PATTERN.fullmatch(name):
        raise InputError(
            f"model name {name!r} must be letters, digits, '.', '_' or '-' (at most 64, not starting with a sign)"
        )
    exists = f"a model named {name} already exists: remove it first or choose another --name"
    if name == BUNDLED_MODEL_NAME:
        raise InputError(exists)
    root = store_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ModelError(f"cannot create the model store {root}: {error.strerror or error}") from None
    with name_lock(root, name, "add"):
        if os.path.lexists(root / name):
            raise InputError(exists)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
        try:
            report = _stage(source, path, model_id, name, staging, device, log, converter)
        except ReadingAssistantError as error:
            # The messages name the folder the user gave, not its copy in the staging folder.
            message = str(error).replace(str(staging / "model"), source).replace(str(staging / "download"), source)
            raise type(error)(message) from None
        except OSError as error:
            raise ModelError(f"cannot add {name}: {error.strerror or error}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return find_model(name), report


def _stage(
    source: str,
    path: Path,
    model_id: str | None,
    name: str,
    staging: Path,
    device: str,
    log: Log,
    converter: Converter | None,
) -> CheckReport:
    """Build the model in ``staging``, check it, and move it into the store under ``name``."""
    if model_id is not None:
        path = download(model_id, staging / "download", log)
        source_label = f"{model_id} (downloaded)"
    else:
        source_label = str(path.resolve())
    target = staging / "model"
    fp32 = None
    if folder_kind(path) == "checkpoint":
        fp32 = _convert(path, target, staging / "fp32", name, log, converter)
        how = "exported with optimum and quantized to int8"
    else:
        _copy_onnx_folder(path, target, name)
        how = "ONNX folder copied"
    log(f"checking {name}: the known question, speed, size")
    try:
        report = measure(target, device, fp32=fp32, name=name)
    except ReadingAssistantError as error:
        raise ModelError(f"{source} cannot be used: {error}") from None
    final = store_dir() / name
    target.rename(final)
    report = replace(report, size_bytes=_folder_size(final))
    _write_record(name, report, source=f"{source_label}, {how}")
    return report


def folder_kind(path: Path) -> str:
    """'onnx' for a folder with an ONNX model, 'checkpoint' for transformers weights, else an error."""
    if any(path.glob("*.onnx")) or any(path.glob("onnx/*.onnx")):
        return "onnx"
    if (path / "config.json").is_file() and any((path / f).is_file() for f in WEIGHT_FILES):
        return "checkpoint"
    raise ModelError(
        f"{path} holds no model: neither an .onnx file nor a Hugging Face checkpoint (config.json and weights)"
    )


def _default_name(source: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", source.rsplit("/", 1)[-1]).strip("-._")
    return name or "model"


def _convert(source: Path, target: Path, fp32_dir: Path, name: str, log: Log, converter: Converter | None) -> Path:
    if converter is None:
        raise ModelError(f"{source} is a checkpoint, and only an ONNX folder can be added here")
    config = read_json(source / "config.json")
    try:
        converter(source, fp32_dir, target, log)
    except ReadingAssistantError:
        raise
    except Exception as error:  # exporters raise anything on a model they cannot handle
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"cannot export {source}: {first}") from error
    if not (target / TOKENIZER_NAME).is_file():
        raise ModelError(f"{source} has no fast tokenizer (tokenizer.json) the app can read")
    settings = model_settings(config, int8=True, name=name, onnx_file="model.onnx")
    write_settings(target, settings)
    return fp32_dir / "model.onnx"


def _copy_onnx_folder(source: Path, target: Path, name: str) -> None:
    """Copy an ONNX folder's useful files (optimum keeps the model in onnx/ on the hub) and the
    external weights its graphs name, and write its settings: what the store keeps is its own."""
    target.mkdir(parents=True)
    for folder in (source, source / "onnx"):
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            if item.is_file() and item.suffix in KEPT_SUFFIXES and not (target / item.name).exists():
                shutil.copy(item, target / item.name)  # the file's content, even where the folder links to it
                if item.suffix == ".onnx":
                    _copy_external_data(item, target)
    if not (target / TOKENIZER_NAME).is_file():
        raise ModelError(f"{source} has no {TOKENIZER_NAME}: the app reads the fast tokenizer's file")
    if not (target / CONFIG_NAME).is_file():
        folder = ModelFolder.open(target)  # finds the ONNX file as the app would
        config = read_json(target / "config.json") if (target / "config.json").is_file() else {}
        positions = read_shape(folder.onnx_path).positions
        if positions and "max_position_embeddings" not in config:
            config = {**config, "max_position_embeddings": positions}
        settings = model_settings(
            config, int8=is_quantized(folder.onnx_path), name=name, onnx_file=folder.onnx_path.name
        )
        write_settings(target, settings)
        return
    kept = read_json(target / CONFIG_NAME)
    kept["name"] = name
    onnx_file = kept.get("onnx_file")
    if isinstance(onnx_file, str) and onnx_file:
        # The folder's own check refuses a path outside it; one inside (onnx/model.onnx) was copied
        # to the top of the stored folder.
        check_model_file("onnx_file", onnx_file, str(source / CONFIG_NAME))
        kept["onnx_file"] = PurePosixPath(onnx_file.replace("\\", "/")).name
    _write_json(target / CONFIG_NAME, kept)
    # Settings the model cannot run are refused here; a batch too big for this machine is lowered
    # (with a warning) and kept lowered.
    fitted = ModelFolder.open(target, source=str(source / CONFIG_NAME)).config
    if fitted.batch_size != kept.get("batch_size", ModelConfig.batch_size):
        kept["batch_size"] = fitted.batch_size
        _write_json(target / CONFIG_NAME, kept)


def _copy_external_data(onnx_path: Path, target: Path) -> None:
    """The files beside a graph that hold its weights (``location`` in the graph), inside its folder only."""
    for location in read_shape(onnx_path).external_files:
        check_model_file("its external data", location, str(onnx_path))
        item, copy = onnx_path.parent / location, target / location
        if item.is_file() and not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(item, copy)


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def model_settings(config: dict, int8: bool, name: str, onnx_file: str) -> ModelConfig:
    """The model's ``reading_assistant.json``: windows as long as its positions allow (at most 384)."""
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and not isinstance(positions, bool) and positions > 0:
        if config.get("model_type") in OFFSET_POSITIONS:
            pad = config.get("pad_token_id")
            positions -= (pad if isinstance(pad, int) and not isinstance(pad, bool) else 1) + 1
        seq_len = max(16, min(MAX_SEQ_LEN, positions))
    else:
        seq_len = MAX_SEQ_LEN
    query_len = min(ModelConfig.query_len, seq_len // 4)
    doc_stride = min(ModelConfig.doc_stride, seq_len // 3)
    return ModelConfig(
        name=name,
        onnx_file=onnx_file,
        seq_len=seq_len,
        query_len=query_len,
        doc_stride=doc_stride,
        # Dynamic int8 quantizes activations per batch: one window per call (see ModelConfig).
        batch_size=1 if int8 else 8,
    )


def write_settings(folder: Path, settings: ModelConfig) -> None:
    (folder / CONFIG_NAME).write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    try:
        value = read_small_json(path)
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path}: {error}") from None
    if not isinstance(value, dict):
        raise ModelError(f"{path} must hold a JSON object")
    return value


def _folder_size(folder: Path) -> int:
    """The bytes of the regular files in a folder, as a model's size: links are neither counted nor
    followed, and a GPU's fp16 copy of the model (``GPU_MODEL_NAME``) is not another model's weight."""
    total = 0
    for parent, _, files in os.walk(folder):
        for file in files:
            if file == GPU_MODEL_NAME:
                continue
            try:
                status = os.lstat(os.path.join(parent, file))
            except OSError:
                continue
            if stat.S_ISREG(status.st_mode):
                total += status.st_size
    return total


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"
