"""Measuring the engine, apart from what the app runs: SQuAD data and metrics, evaluation, the bench."""
