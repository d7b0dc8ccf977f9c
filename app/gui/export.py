"""The answers as a reader keeps them: Markdown, CSV or JSON, with the question, the document,
each answer's location, confidence and evidence; and the plain text copied to the clipboard."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..core.documents import Document
from ..core.evidence import evidence, no_answer_summary, one_line, percent
from ..core.reading import Prediction

CSV_COLUMNS = ["question", "document", "rank", "answer", "confidence", "location", "evidence", "start", "end", "guess"]
FORMATS = {"md": "Markdown (*.md)", "csv": "CSV (*.csv)", "json": "JSON (*.json)"}


@dataclass(frozen=True)
class ExportedAnswer:
    rank: int
    text: str
    confidence: float
    location: str
    evidence: str
    start: int
    end: int


@dataclass(frozen=True)
class Export:
    question: str
    document: str
    path: str
    model: str
    has_answer: bool
    no_answer_probability: float
    share_read: float
    answers: tuple[ExportedAnswer, ...]
    exported: str


def collect(
    prediction: Prediction,
    document: Document,
    locate: Callable[[int], str],
    model: str = "",
    path: Path | None = None,
) -> Export:
    answers = []
    for rank, answer in enumerate(prediction.answers, 1):
        words = evidence(document.text, answer.start, answer.end)
        answers.append(
            ExportedAnswer(
                rank=rank,
                text=answer.text,
                confidence=round(float(answer.score), 4),
                location=locate(answer.start) or "",
                evidence=f"{words.before}{words.answer}{words.after}",
                start=answer.start,
                end=answer.end,
            )
        )
    total = prediction.total_windows or prediction.windows or 1
    return Export(
        question=prediction.question,
        document=document.name,
        path=str(path) if path else "",
        model=model,
        has_answer=prediction.has_answer,
        no_answer_probability=round(float(prediction.no_answer_score), 4),
        share_read=round(min(1.0, prediction.windows / total), 4),
        answers=tuple(answers),
        exported=datetime.now().astimezone().isoformat(timespec="seconds"),
    )


def to_markdown(export: Export) -> str:
    lines = [f"# {export.question}", ""]
    source = f"{export.document} ({export.path})" if export.path else export.document
    lines += [f"- Document: {source}", f"- Read: {percent(export.share_read)} of the document"]
    if export.model:
        lines.append(f"- Model: {export.model}")
    lines.append(f"- Exported: {export.exported} by Reading Assistant {__version__}")
    lines.append("")
    if not export.has_answer:
        lines += [f"**{no_answer_summary(export.no_answer_probability)}.** The answers below are guesses.", ""]
    for answer in export.answers:
        lines.append(f"{answer.rank}. **{one_line(answer.text)}** — {percent(answer.confidence)}, {answer.location}")
        lines.append(f"   > {answer.evidence}")
    return "\n".join(lines) + "\n"


def to_csv(export: Export) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for answer in export.answers:
        writer.writerow(
            [
                export.question,
                export.document,
                answer.rank,
                answer.text,
                f"{answer.confidence:.4f}",
                answer.location,
                answer.evidence,
                answer.start,
                answer.end,
                "yes" if not export.has_answer else "no",
            ]
        )
    return buffer.getvalue()


def to_json(export: Export) -> str:
    data = {
        "question": export.question,
        "document": export.document,
        "path": export.path,
        "model": export.model,
        "has_answer": export.has_answer,
        "no_answer_probability": export.no_answer_probability,
        "share_read": export.share_read,
        "exported": export.exported,
        "app": f"Reading Assistant {__version__}",
        "answers": [answer.__dict__ for answer in export.answers],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


WRITERS = {"md": to_markdown, "csv": to_csv, "json": to_json}


def write(export: Export, path: Path) -> Path:
    """Write in the format the suffix names (Markdown when it names none); the path written."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in WRITERS:
        suffix = "md"
        path = path.with_suffix(".md")
    path.write_text(WRITERS[suffix](export), encoding="utf-8", newline="")
    return path


def answer_text(export: Export, rank: int, with_evidence: bool) -> str:
    """One answer as plain text for the clipboard."""
    answer = export.answers[rank]
    shown = one_line(answer.text)
    if not with_evidence:
        return shown
    return f"{shown}\n“{answer.evidence}” ({export.document}, {answer.location}; {percent(answer.confidence)})"
