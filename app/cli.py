"""``reading-assistant``: the window by default; ask, eval, bench, models and serve on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

from . import __version__
from .api import LibraryReader, Reader, open_library
from .cli_output import ProgressLine, check_output_open, json_text, run_guarded, say, write_output
from .core.documents import Document, load_document, read_stdin
from .core.engine import QAEngine, open_engine
from .core.errors import ModelError, ReadingAssistantError
from .core.evidence import evidence, no_answer_summary, percent
from .core.language import document_language, question_language, reads_english_note
from .core.library import LibraryPrediction
from .core.logs import log, setup_logging
from .core.model_store import add_model, check_model, list_models, remove_model, resolve_model
from .core.options import DEFAULT_TOP_K, DEVICES, EARLY_ANSWERS, EARLY_WINDOWS, Choices
from .core.paths import bundled_model_dir
from .core.reading import Prediction

# The window starts through this module: evaluation (eval, bench) and training (models add of a
# checkpoint) are imported by the commands that use them, never by the window.

# The options that become a read's Choices, under the same names as argparse gives them.
CHOICE_OPTIONS = ("seq_len", "query_len", "doc_stride", "max_answer_len", "batch_size", "top_k", "max_windows")
SOURCE = "the command line"
COMMANDS = ("ask", "eval", "bench", "models", "serve", "library")
ASK_HELP = "(see 'reading-assistant ask --help')"
SERVE_EXTRA = "pip install 'reading-assistant[serve]'"
USAGE = """reading-assistant [FILE] [--question TEXT] [-v]    open the window, on FILE if given
       reading-assistant ask FILE QUESTION [options]     answer on the command line
       reading-assistant ask --library QUESTION          answer from every document of the library
       reading-assistant library add|remove|list|update  the library of folders and files
       reading-assistant eval DATASET [options]          exact match and F1 on SQuAD
       reading-assistant bench [options]                 speed and accuracy figures
       reading-assistant models list|add|remove|check     the models to choose from
       reading-assistant serve [--host H] [--port P]     a local HTTP JSON API
       reading-assistant --version"""


class UsageError(ReadingAssistantError):
    """The command line itself is wrong: a missing argument, an unknown option, a bad number."""


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line naming it, not the usage block (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def text_argument(value: str) -> str:
    """A command-line word as text: bytes that were not UTF-8 (kept by Python as lone surrogates)
    become U+FFFD, so a stray byte in a question cannot reach the tokenizer or the output."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def common_options() -> argparse.ArgumentParser:
    """Options every form of the command takes."""
    common = Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="log everything to standard error too")
    common.add_argument("--version", action="version", version=f"reading-assistant {__version__}")
    return common


def window_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="reading-assistant",
        usage=USAGE,
        description="Without a command, open the Reading Assistant window.",
        parents=[common_options()],
    )
    parser.add_argument("file", nargs="?", type=Path, help="a document to open in the window")
    parser.add_argument("--question", type=text_argument, help="a question to ask once the document is open")
    return parser


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None, help="a model's name (see 'models list') or folder (default: the bundled model)"
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where the model runs (default: auto)")


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """Each option left out takes the model's own value from its reading_assistant.json."""
    parser.add_argument("--seq-len", type=int, help="tokens per window")
    parser.add_argument("--query-len", type=int, help="question tokens kept")
    parser.add_argument("--doc-stride", type=int, help="tokens between the starts of two windows")
    parser.add_argument("--max-answer-len", type=int, help="longest answer in tokens")


def model_dir(arguments: argparse.Namespace) -> Path:
    """The folder of --model: a name from the model store or a folder (resolved in one place, the store)."""
    if arguments.model is not None:
        return resolve_model(arguments.model)
    bundled = bundled_model_dir()
    if not bundled.is_dir():
        raise ReadingAssistantError(f"no bundled model at {bundled}: give a model folder with --model DIR")
    return bundled


def choices_for(arguments: argparse.Namespace) -> Choices:
    """What the command line said of how to read; every option left out is None, the model's own."""
    return Choices(**{name: getattr(arguments, name, None) for name in CHOICE_OPTIONS})


def engine_for(arguments: argparse.Namespace) -> QAEngine:
    """The engine on --model and --device; its options are checked at once, before anything is read."""
    engine = open_engine(model_dir(arguments), arguments.device)
    engine.resolve(choices_for(arguments), SOURCE)
    return engine


def reader_for(arguments: argparse.Namespace) -> Reader:
    """The front end ``ask`` and ``serve`` answer through: the early answers, with the options over them."""
    return Reader(
        open_engine(model_dir(arguments), arguments.device), choices_for(arguments).over(EARLY_ANSWERS), SOURCE
    )


def build_parser() -> argparse.ArgumentParser:
    from .evaluation.bench import BOOK_WORDS, DEFAULT_DEV

    common = common_options()
    parser = Parser(
        prog="reading-assistant",
        usage=USAGE,
        description="Ask questions about a document, offline. Without a command, the window opens "
        "(on FILE if given; --question asks once it is open).",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{ask,eval,bench,models,serve,library}")

    ask = commands.add_parser(
        "ask", prog="reading-assistant ask", help="answer a question about a file", parents=[common]
    )
    ask.add_argument("file", nargs="?", help="the document (a path, or - for standard input); none with --library")
    ask.add_argument("question", nargs="?", type=text_argument, help="the question")
    ask.add_argument("--library", action="store_true", help="answer from the library's documents instead of a file")
    ask.add_argument("--folder", type=Path, help="with --library: only the documents in this folder of it")
    add_library_file_argument(ask)
    ask.add_argument("--top-k", type=int, help=f"how many answers to list (default: {DEFAULT_TOP_K})")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument(
        "--max-windows",
        type=int,
        help=f"read the N windows that best match the question, as the window's first answers do "
        f"(default: {EARLY_WINDOWS}; 0 reads every window)",
    )
    add_model_arguments(ask)
    add_window_arguments(ask)

    evaluate = commands.add_parser(
        "eval", prog="reading-assistant eval", help="exact match and F1 on a SQuAD v1.1 or v2.0 file", parents=[common]
    )
    evaluate.add_argument("dataset", type=Path, help="SQuAD JSON, plain or .gz")
    evaluate.add_argument("--limit", type=int, default=0, help="only the first N questions")
    evaluate.add_argument(
        "--output-dir", type=Path, help="write predictions.json, nbest_predictions.json, null_odds.json"
    )
    evaluate.add_argument("--batch-size", type=int, help="windows per model call (default: the model's own)")
    add_model_arguments(evaluate)

    bench = commands.add_parser(
        "bench",
        prog="reading-assistant bench",
        help="speed, long-document and accuracy figures (printed, not asserted)",
        parents=[common],
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="SQuAD dev-v1.1 file for the texts and questions")
    bench.add_argument("--article-questions", type=int, default=100, help="whole-article questions (0: skip)")
    bench.add_argument("--book-questions", type=int, default=0, help="book-length questions in both modes (0: skip)")
    bench.add_argument(
        "--early-windows",
        type=int,
        default=24,
        help="ranked windows read in the early-answer mode; F1 is reported after every 8 of them too",
    )
    bench.add_argument("--book-words", type=int, default=BOOK_WORDS, help="length of the book-length document")
    bench.add_argument(
        "--early-stop-questions",
        type=int,
        default=0,
        help="SQuAD v2.0 dev questions about the book for the window's early stop on 'no answer' (0: skip)",
    )
    add_model_arguments(bench)
    add_models_parser(commands, common)
    add_serve_parser(commands, common)
    add_library_parser(commands, common)
    return parser


def add_library_file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--library-file", type=Path, help="the library's index file (default: in the app's data folder)"
    )


def add_library_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    library = commands.add_parser(
        "library",
        prog="reading-assistant library",
        help="the library: folders and files indexed once, asked with ask --library",
        parents=[common],
    )
    actions = library.add_subparsers(dest="action", required=True, metavar="{add,remove,list,update}")
    add = actions.add_parser(
        "add", prog="reading-assistant library add", help="add folders or files and index them", parents=[common]
    )
    add.add_argument("paths", nargs="+", type=Path, help="folders or files")
    remove = actions.add_parser(
        "remove", prog="reading-assistant library remove", help="take a folder or file out", parents=[common]
    )
    remove.add_argument("path", type=Path)
    listing = actions.add_parser(
        "list", prog="reading-assistant library list", help="the documents and their state", parents=[common]
    )
    listing.add_argument("folder", nargs="?", type=Path, help="only the documents in this folder")
    listing.add_argument("--json", action="store_true", help="print one JSON list")
    update = actions.add_parser(
        "update",
        prog="reading-assistant library update",
        help="notice changed, moved and deleted files and index what waits",
        parents=[common],
    )
    for action in (add, remove, listing, update):
        add_library_file_argument(action)
        add_model_arguments(action)


def add_models_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    models = commands.add_parser(
        "models", prog="reading-assistant models", help="list, add, remove or check models", parents=[common]
    )
    actions = models.add_subparsers(dest="action", required=True, metavar="{list,add,remove,check}")
    listing = actions.add_parser(
        "list", prog="reading-assistant models list", help="the models to choose from", parents=[common]
    )
    listing.add_argument("--json", action="store_true", help="print one JSON list")
    add = actions.add_parser(
        "add",
        prog="reading-assistant models add",
        help="add a checkpoint folder, an ONNX folder or a Hugging Face model id (downloaded)",
        parents=[common],
    )
    add.add_argument("source", help="a Hugging Face checkpoint folder, an ONNX model folder, or a model id")
    add.add_argument("--name", help="the name to choose it by (default: from the source)")
    add.add_argument("--device", choices=DEVICES, default="auto", help="where it is checked (default: auto)")
    remove = actions.add_parser(
        "remove", prog="reading-assistant models remove", help="remove an added model", parents=[common]
    )
    remove.add_argument("name")
    check = actions.add_parser(
        "check",
        prog="reading-assistant models check",
        help="run a model on a known question: speed, size, int8 vs fp32",
        parents=[common],
    )
    check.add_argument("name")
    check.add_argument("--device", choices=DEVICES, default="auto", help="where it runs (default: auto)")


def add_serve_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve",
        prog="reading-assistant serve",
        help="a local HTTP JSON API over the same engine (needs the serve extra)",
        parents=[common],
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    serve.add_argument("--port", type=int, default=8866, help="port (default: 8866)")
    serve.add_argument("--max-request-mb", type=int, default=50, help="largest request body in MB (default: 50)")
    serve.add_argument("--timeout", type=float, default=60.0, help="seconds a request may take (default: 60)")
    add_model_arguments(serve)


def format_prediction(prediction: Prediction, document: Document) -> str:
    lines = []
    if not prediction.has_answer:
        lines.append(f"{no_answer_summary(prediction.no_answer_score)}. Best guesses:")
    for rank, answer in enumerate(prediction.answers, 1):
        location = document.location(answer.start)
        where = f"  ({location})" if location else ""
        words = evidence(document.text, answer.start, answer.end)
        lines.append(f"{rank}. {percent(answer.score):>8}  {words.answer}{where}")
        lines.append(f"          {words.before}[{words.answer}]{words.after}")
    return "\n".join(lines)


def run_ask(arguments: argparse.Namespace) -> int:
    if arguments.library:
        return run_ask_library(arguments)
    if arguments.folder is not None or arguments.library_file is not None:
        raise UsageError(f"--folder and --library-file go with --library {ASK_HELP}")
    if arguments.file is None or arguments.question is None:
        raise UsageError(
            "ask takes a FILE and a QUESTION, or --library and a QUESTION (see 'reading-assistant ask --help')"
        )
    if not arguments.question.strip():
        raise ReadingAssistantError("the question is empty")
    document = read_stdin() if arguments.file == "-" else load_document(Path(arguments.file))
    # The model reads English: say so before its answers to a text or a question in another language.
    languages = {
        "The document": document_language(document.text),
        "The question": question_language(arguments.question),
    }
    for what, language in languages.items():
        if language is not None:
            say(f"note: {reads_english_note(what, language)}")
    with reader_for(arguments) as reader:
        if arguments.json:
            output = json_text(reader.ask(document, arguments.question, source=SOURCE))
        else:
            output = format_prediction(reader.predict(document, arguments.question, source=SOURCE), document)
        for warning in reader.engine.warnings:
            say(f"warning: {warning}")
    write_output(output)
    return 0


def library_for(arguments: argparse.Namespace) -> LibraryReader:
    library = open_library(arguments.library_file, arguments.model, arguments.device)
    if library.library.notice:
        say(f"note: {library.library.notice}")
    return library


def run_ask_library(arguments: argparse.Namespace) -> int:
    words = [w for w in (arguments.file, arguments.question) if w is not None]
    if len(words) != 1:
        raise UsageError("ask --library takes one QUESTION (and --folder FOLDER for one folder of the library)")
    question = text_argument(words[0])
    language = question_language(question)
    if language is not None:
        say(f"note: {reads_english_note('The question', language)}")
    with library_for(arguments) as library:
        prediction = library.predict(question, arguments.folder, arguments.top_k, source=SOURCE)
        if arguments.json:
            output = json_text(library.as_json(prediction))
        else:
            output = format_library_prediction(prediction, library.library.counts()["indexed"])
    write_output(output)
    return 0


def format_library_prediction(prediction: LibraryPrediction, documents: int) -> str:
    if not documents:
        return "The library has no documents yet: add some with 'reading-assistant library add FOLDER'."
    lines = []
    if not prediction.answers:
        return "Not in your library: no passage shares a word or a meaning with the question."
    if not prediction.has_answer:
        lines.append(f"{no_answer_summary(prediction.no_answer_score, library=True)}. Best guesses:")
    for rank, answer in enumerate(prediction.answers, 1):
        where = f"{answer.name}, {answer.location}" if answer.location else answer.name
        words = answer.evidence
        lines.append(f"{rank}. {percent(answer.score):>8}  {words.answer}  ({where})")
        lines.append(f"          {words.before}[{words.answer}]{words.after}")
    return "\n".join(lines)


def run_library(arguments: argparse.Namespace) -> int:
    with library_for(arguments) as library:
        if arguments.action == "list":
            documents = library.documents(arguments.folder)
            if arguments.json:
                write_output(json_text(documents))
            else:
                lines = [f"{d['path']}  [{d['state']}{': ' + d['error'] if d['error'] else ''}]" for d in documents]
                write_output("\n".join(lines) or "The library is empty.")
            return 0
        if arguments.action == "remove":
            write_output(f"removed {library.remove(arguments.path)['removed']} documents of {arguments.path}")
            return 0
        if arguments.action == "add":
            for path in arguments.paths:
                library.library.add(path.expanduser())
        summary = library.update(on_progress=ProgressLine("indexing", "").index)
        write_output(
            f"{summary['documents']} documents indexed ({summary['passages']} passages), {summary['failed']} failed; "
            f"this time {summary['added']} new, {summary['changed']} changed, {summary['removed']} gone"
        )
        return 0


def run_eval(arguments: argparse.Namespace) -> int:
    from .evaluation.evaluate import metrics as evaluation_metrics
    from .evaluation.evaluate import run_engine, write_outputs
    from .evaluation.squad import load_squad

    dataset = load_squad(arguments.dataset)
    engine = engine_for(arguments)
    run = run_engine(engine, dataset, arguments.limit, ProgressLine("eval"), choices_for(arguments))
    unanswerable_aware = dataset.has_unanswerable
    result = evaluation_metrics(run, unanswerable_aware)
    if arguments.output_dir is not None:
        write_outputs(run, arguments.output_dir, unanswerable_aware)
    write_output(json.dumps(result))
    return 0


def run_bench_command(arguments: argparse.Namespace) -> int:
    from .evaluation.bench import run_bench

    engine = engine_for(arguments)
    report = run_bench(
        engine,
        model_dir(arguments),
        arguments.dev,
        arguments.article_questions,
        arguments.book_questions,
        arguments.early_windows,
        log=say,
        book_words=arguments.book_words,
        early_stop_questions=arguments.early_stop_questions,
    )
    write_output(json.dumps(report) if arguments.json else json.dumps(report, indent=2))
    return 0


def run_models(arguments: argparse.Namespace) -> int:
    def progress(message: str) -> None:
        # Progress for a person at a terminal; a script's standard error keeps the one-line error contract.
        log.info("%s", message)
        if sys.stderr.isatty() and not arguments.verbose:
            say(message)

    if arguments.action == "list":
        models = list_models()
        if arguments.json:
            write_output(json_text([model.as_json() for model in models]))
            return 0
        lines = []
        for model in models:
            speed = f"{model.ms_per_window:.1f} ms/window" if model.ms_per_window is not None else "not checked"
            kind = "bundled" if model.bundled else "added"
            lines.append(f"{model.name:<28} {model.size_bytes / 2**20:8.1f} MB  {speed:<16} {kind:<8} {model.folder}")
        write_output("\n".join(lines))
    elif arguments.action == "add":
        model, report = add_model(
            arguments.source, arguments.name, arguments.device, log=progress, converter=convert_checkpoint
        )
        write_output("\n".join([f"added {model.name}: {model.source}", f"  folder: {model.folder}", *report.lines()]))
    elif arguments.action == "remove":
        folder = remove_model(arguments.name)
        write_output(f"removed {arguments.name} ({folder})")
    else:
        report = check_model(arguments.name, arguments.device, log=progress)
        write_output("\n".join([f"{arguments.name} works:", *report.lines()]))
    return 0


def convert_checkpoint(source: Path, fp32_dir: Path, int8_dir: Path, log) -> None:
    """``models add CHECKPOINT``'s converter: training's exporter, when the models extra is installed."""
    try:
        from .training.convert import convert_checkpoint as convert
    except ImportError as error:
        missing = getattr(error, "name", None) or "torch/optimum"
        raise ModelError(
            f"exporting a checkpoint needs the models extra ({missing} is missing): "
            "pip install 'reading-assistant[models]', or add an ONNX folder instead"
        ) from None
    convert(source, fp32_dir, int8_dir, log)


def run_serve(arguments: argparse.Namespace) -> int:
    try:
        from . import server
    except ImportError as error:
        missing = getattr(error, "name", None) or "its web stack"
        raise ReadingAssistantError(f"serve needs the serve extra ({missing} is missing): {SERVE_EXTRA}") from None
    reader = reader_for(arguments)
    for warning in reader.engine.warnings:
        say(f"warning: {warning}")
    return server.serve(
        reader,
        host=arguments.host,
        port=arguments.port,
        max_request_bytes=arguments.max_request_mb * 2**20,
        timeout=arguments.timeout,
        say=say,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not any(word in COMMANDS for word in argv[:1]) and not any(word in ("-h", "--help") for word in argv):
        return gui_main(argv)
    return run_guarded(lambda: run_command(argv))


def run_command(argv: list[str]) -> int:
    """One command of the command line; ``run_guarded`` turns what goes wrong into one line."""
    arguments = build_parser().parse_args(argv)
    setup_logging(arguments.verbose)
    log.info("command: %s", arguments.command)
    if arguments.command != "serve":  # the server says what it does on standard error
        check_output_open()
    commands = {
        "ask": run_ask,
        "eval": run_eval,
        "bench": run_bench_command,
        "models": run_models,
        "serve": run_serve,
        "library": run_library,
    }
    return commands[arguments.command](arguments)


def gui_main(argv: list[str] | None = None) -> int:
    """The window: ``reading-assistant [FILE] [--question TEXT]``; the gui-script entry point."""
    argv = sys.argv[1:] if argv is None else argv
    return run_guarded(lambda: run_window(argv))


def run_window(argv: list[str]) -> int:
    arguments = window_parser().parse_args(argv)
    setup_logging(arguments.verbose)
    log.info("command: window")
    from .gui.main import run_gui  # Qt is imported only when the window is wanted

    return run_gui(arguments.file, arguments.question)


if __name__ == "__main__":
    sys.exit(main())
