"""The two parts of SQuAD 2.0 dev that the project keeps apart, and files holding each part.

dev-v2.0's first 18 articles in file order may be trained on, and used to fit the no-answer
threshold and the calibration; the other 17 are only ever evaluated. ``python -m
reading_assistant.evaluation.splits DEV_V2 --part evaluation --output FILE`` writes one part as a
SQuAD JSON file (``.gz`` compresses it) for ``reading-assistant eval``; write it outside the
repository. ``--first``/``--last`` cut a range of the fitting articles (held-out fitting
articles, for calibration, when the first ones are trained on).
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

FIT_ARTICLES = 18  # dev-v2.0's first 18 articles: training, thresholds, calibration
PARTS = ("fit", "evaluation")


def article_range(part: str, total: int, first: int = 0, last: int | None = None) -> range:
    """Article indices of a part; ``first``/``last`` narrow the fitting part (a slice of it)."""
    if part == "evaluation":
        if first or last is not None:
            raise ValueError("the evaluation articles are evaluated whole")
        return range(FIT_ARTICLES, total)
    if part != "fit":
        raise ValueError(f"part is one of {PARTS}, not {part!r}")
    end = FIT_ARTICLES if last is None else min(last, FIT_ARTICLES)
    return range(max(0, first), max(0, end))


def split_raw(raw: dict, part: str, first: int = 0, last: int | None = None) -> dict:
    """The SQuAD JSON object reduced to one part's articles, in file order."""
    articles = raw["data"]
    return {**raw, "data": [articles[i] for i in article_range(part, len(articles), first, last)]}


def write_part(source: Path, part: str, output: Path, first: int = 0, last: int | None = None) -> int:
    """Write the part to ``output``; returns the number of questions written."""
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as handle:
        raw = json.load(handle)
    reduced = split_raw(raw, part, first, last)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = gzip.open if output.suffix == ".gz" else open
    with writer(output, "wt", encoding="utf-8") as handle:
        json.dump(reduced, handle, ensure_ascii=False)
    return sum(len(p["qas"]) for a in reduced["data"] for p in a["paragraphs"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="dev-v2.0.json(.gz)")
    parser.add_argument("--part", choices=PARTS, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--first", type=int, default=0, help="fit part only: first article (0-based)")
    parser.add_argument("--last", type=int, default=None, help="fit part only: end article (exclusive)")
    arguments = parser.parse_args(argv)
    count = write_part(arguments.source, arguments.part, arguments.output, arguments.first, arguments.last)
    print(f"{count} questions written to {arguments.output}")


if __name__ == "__main__":
    main()
