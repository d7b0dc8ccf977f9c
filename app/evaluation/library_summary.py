"""The library bench's report as a reader reads it: one line per figure, hybrid beside BM25."""

from __future__ import annotations


def _number(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _spread(entry: dict | None, unit: str = "", digits: int = 3) -> str:
    if not entry:
        return "-"
    return f"{_number(entry['median'], digits)}{unit} median, {_number(entry['p90'], digits)}{unit} p90"


def summary(report: dict) -> str:
    """The report as a reader reads it."""
    lines = []
    m, s = report["machine"], report["settings"]
    lines.append(
        f"Library bench on {m['cores']} CPU cores ({m['processor']}, {m['platform']}); "
        f"load average {m['load_average_at_start']} at the start, {m.get('load_average_at_end')} at the end: "
        "the cores were shared with other work, so every time is of a busy machine (CPU time is this "
        "process's, all its threads together: about twice the wall time on two idle cores)."
    )
    lines.append(
        f"Embedder: {s['embedder'] or 'none (BM25 alone)'}; reader: {s['reader'] or 'none'}; seed {s['seed']}."
    )
    dev = report["dev_library"]
    lines.append("")
    lines.append(
        f"1. Recall of the question's paragraph. Dev library: {dev['documents']} articles, "
        f"{dev['passages']:,} passages ({dev['files_whose_library_text_matches']} of {dev['documents']} files "
        "kept with their exact text)."
    )
    for key, title in (("recall_dev_articles", "dev articles"), ("recall_large_library", "large library")):
        block = report[key]
        if key == "recall_large_library":
            large = report["large_library"]
            title += (
                f" ({large['documents']:,} documents: {large['distractor_documents']:,} train paragraphs added; "
                f"{large['passages']:,} passages)"
            )
        lines.append(f"   {title}, {block['questions']:,} dev questions:")
        for name in ("hybrid", "bm25"):
            if name in block:
                r = block[name]
                ks = "  ".join(f"@{k} {r[f'recall@{k}']:.3f}" for k in s["recall_at"])
                lines.append(f"     {name:7s} {ks}   search {_spread(r['search_ms'], ' ms', 1)}")
    if "end_to_end" in report:
        e2e = report["end_to_end"]
        lines.append("")
        lines.append(
            f"2. End to end, {e2e['questions']} dev questions, {e2e['choices']}, large library (load average "
            f"{e2e['load_average_at_start']} when it began):"
        )
        for key in [k for k in e2e if k.startswith("library_")] + ["article_alone"]:
            r = e2e[key]
            extra = ""
            if "gold_passage_read" in r:
                extra = (
                    f"; {r['passages_read_median']:.0f} passages read (median), gold passage among them "
                    f"{r['gold_passage_read']:.3f}, top answer from the right file "
                    f"{r['top_answer_from_gold_file']:.3f}; search {_spread(r['search_ms'], ' ms', 1)}"
                )
            lines.append(
                f"   {key:16s} EM {r['exact_match']:.2f}  F1 {r['f1']:.2f}  (first answers: EM "
                f"{r['first_answer_exact_match']:.2f}, F1 {r['first_answer_f1']:.2f}); final answer "
                f"{_spread(r['final_answer_seconds'], ' s')} (CPU time "
                f"{_spread(r['final_answer_cpu_seconds'], ' s')}){extra}"
            )
    large = report["large_library"]
    lines.append("")
    lines.append("3. Indexing the large library (dev articles, then the distractors):")
    for key, title in (("build", "distractors alone"), ("indexing", "whole library")):
        b = large[key]
        lines.append(
            f"   {title}: {b['documents']:,} documents, {b['passages']:,} passages; reading "
            f"{_number(b['reading_seconds'], 1)} s = {_number(b['reading_documents_per_minute'], 0)} documents, "
            f"{_number(b['reading_passages_per_minute'], 0)} passages a minute; embedding "
            f"{_number(b['embedding_seconds'], 1)} s = {_number(b['embedding_documents_per_minute'], 0)} documents, "
            f"{_number(b['embedding_passages_per_minute'], 0)} passages a minute (CPU time: reading "
            f"{_number(b['reading_cpu_seconds'], 1)} s, embedding {_number(b['embedding_cpu_seconds'], 1)} s); "
            f"peak RSS {_number(b['peak_rss_mb'], 0)} MB"
        )
    storage = large["storage"]
    lines.append(
        f"   library file {storage['file_mb']} MB (WAL before checkpoint {storage['wal_mb_before_checkpoint']} MB)"
        + (f"; by table (MB): {storage['mb_by_table']}" if "mb_by_table" in storage else "")
    )
    lines.append(
        f"   process memory when indexing the distractors began {_number(large['build']['rss_before_mb'], 0)} MB "
        f"(SQuAD paragraphs loaded, both models open); its peak while indexing them was "
        f"{_number(large['build']['peak_above_start_mb'], 0)} MB above that"
    )
    latency_report = report["latency"]
    lines.append("")
    lines.append(
        f"4. Latency, {latency_report['questions']} questions from {latency_report['dev_articles']} dev articles "
        f"({latency_report['dev_paragraph_documents']} paragraph documents) among train paragraphs, one per file; "
        f"target: first answer within {latency_report['target_first_answer_seconds']} s at 10,000 documents:"
    )
    for size in s["latency_sizes"]:
        entry = latency_report[str(size)]
        b = entry["build"]
        lines.append(
            f"   {entry['documents']:,} documents, {entry['passages']:,} passages: indexed in "
            f"{b['reading_seconds'] + b['embedding_seconds'] + b['sync_seconds']:.1f} s (reading "
            f"{_number(b['reading_documents_per_minute'], 0)} documents a minute; {b['embeddings_reused']:,} "
            f"embeddings reused from the large library); opened and checked in {entry['open_seconds_with_check']} s; "
            f"load average {entry['load_average_at_start']} before its questions, {entry.get('load_average_at_end')} "
            "after"
        )
        for name in ("hybrid", "bm25"):
            if name not in entry:
                continue
            r = entry[name]
            line = f"     {name:7s} first search {r['first_search_ms']} ms; search {_spread(r['search_ms'], ' ms', 1)}"
            if "first_answer_seconds" in r:
                line += (
                    f"; first answer {_spread(r['first_answer_seconds'], ' s')} "
                    f"({r['first_answer_within_target']:.0%} within target; CPU time "
                    f"{_spread(r['first_answer_cpu_seconds'], ' s')}); final "
                    f"{_spread(r['final_answer_seconds'], ' s')} (CPU {_spread(r['final_answer_cpu_seconds'], ' s')}); "
                    f"F1 {r['f1']:.1f}"
                )
            line += "".join(f"; {key} {value:.3f}" for key, value in r.items() if key.startswith("recall@"))
            if "passages_read_median" in r:
                line += f"; passages read {r['passages_read_median']:.0f} (median)"
            lines.append(line)
    lines.append("")
    lines.append(f"The bench took {report['seconds']:.0f} s.")
    return "\n".join(lines)
