"""dev-v2.0's 17 evaluation articles, the split that issue 19's targets are measured on.

``python -m reading_assistant.evaluation.splits DEV_V2 --output FILE`` writes the articles after
the first 18 in file order as a SQuAD JSON file (``.gz`` compresses it) for ``reading-assistant
eval``; write it outside the repository. Nothing is trained or fitted on any part of dev-v2.0 (the
data's rules keep both dev files for evaluation); the split stays so that figures compare across
the stages, and ``eval`` on the whole file reports all 35 articles.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

FIRST_EVALUATION_ARTICLE = 18  # the 18 before it were set aside for fitting when the split was made


def evaluation_part(raw: dict) -> dict:
    """The SQuAD JSON object reduced to the evaluation articles, in file order."""
    return {**raw, "data": raw["data"][FIRST_EVALUATION_ARTICLE:]}


def write_evaluation_part(source: Path, output: Path) -> int:
    """Write the evaluation articles to ``output``; returns the number of questions written."""
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as handle:
        raw = json.load(handle)
    reduced = evaluation_part(raw)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = gzip.open if output.suffix == ".gz" else open
    with writer(output, "wt", encoding="utf-8") as handle:
        json.dump(reduced, handle, ensure_ascii=False)
    return sum(len(p["qas"]) for a in reduced["data"] for p in a["paragraphs"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="dev-v2.0.json(.gz)")
    parser.add_argument("--output", type=Path, required=True)
    arguments = parser.parse_args(argv)
    count = write_evaluation_part(arguments.source, arguments.output)
    print(f"{count} questions written to {arguments.output}")


if __name__ == "__main__":
    main()
