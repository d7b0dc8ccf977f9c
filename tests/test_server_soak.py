"""The server soak, briefly: the real ``serve`` command under the soak's whole mix of load."""

from __future__ import annotations

import sys

from reading_assistant.evaluation.server_soak import book, soak


def test_a_short_soak_meets_its_targets_and_says_so(capsys):
    result = soak(0.3, askers=2, idle=5)
    report = result.summary()
    with capsys.disabled():
        print(f"\n{report}")
    outcomes = result.tally.outcomes
    assert result.errors() == {} and "Traceback" not in result.stderr
    assert outcomes["health"]["ok"] >= 10 and outcomes["ask"]["ok"] >= 1 and outcomes["abandoned"]["sent"] >= 1
    assert outcomes["idle socket"]["opened"] >= 5
    assert report.splitlines()[-1].startswith("verdict: ")
    assert all("memory grew" in missed for missed in result.missed())  # a short run is mostly its warm-up
    if sys.platform.startswith("linux"):
        assert result.rss and result.growth() is not None


def test_the_books_hold_the_fact_once_and_are_as_long_as_asked():
    text = book(100_000, seed=3)
    assert 100_000 <= len(text) < 101_000 and text.count("observatory of Kestrel Point") == 1
    assert book(100_000, seed=3) == text != book(100_000, seed=4)
