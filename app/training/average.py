"""Average the weights of training runs that share a starting model (a "model soup").

``python -m reading_assistant.training.average --runs RUN_A RUN_B ... --output-dir RUN`` writes ``RUN/final``,
the element-wise mean of the runs' final models, and the first run's ``train_config.json`` (the
runs must share the held-out split, which calibration reads from it). Runs fine-tuned from one
start with different orders and learning rates stay in one basin, where their mean often scores
above each of them at the cost of a single model (Wortsman et al., 2022, "Model soups").
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from transformers import AutoModelForQuestionAnswering

SPLIT_KEYS = ("train_file", "seed", "max_questions")  # what decides the held-out questions


def average(runs: list[Path], output_dir: Path) -> Path:
    configs = [json.loads((run / "train_config.json").read_text()) for run in runs]
    for key in SPLIT_KEYS:
        values = {Path(c[key]).name if key == "train_file" else c[key] for c in configs}
        if len(values) > 1:
            raise ValueError(f"the runs differ in {key} ({sorted(map(str, values))}), so their held-out splits do")
    models = [AutoModelForQuestionAnswering.from_pretrained(run / "final") for run in runs]
    states = [model.state_dict() for model in models]
    mean = {
        name: torch.stack([state[name] for state in states]).mean(0) if tensor.is_floating_point() else tensor
        for name, tensor in states[0].items()
    }
    soup = models[0]
    soup.load_state_dict(mean)
    final = output_dir / "final"
    soup.save_pretrained(final)
    shutil.copyfile(runs[0] / "final" / "tokenizer.json", final / "tokenizer.json")
    (output_dir / "train_config.json").write_text(json.dumps(configs[0] | {"output_dir": str(output_dir)}, indent=2))
    (output_dir / "averaged_runs.json").write_text(json.dumps([str(run) for run in runs], indent=2))
    return final


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, nargs="+", required=True, help="training runs with a final model")
    parser.add_argument("--output-dir", type=Path, required=True)
    arguments = parser.parse_args(argv)
    print(f"saved {average(arguments.runs, arguments.output_dir)}")


if __name__ == "__main__":
    main()
