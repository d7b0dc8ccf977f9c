"""The library's index: a real SQLite file, real files on disk, the real reader model for asking."""

from __future__ import annotations

import sqlite3
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest

from reading_assistant.core.documents import load_document
from reading_assistant.core.engine import open_engine
from reading_assistant.core.errors import Cancelled, InputError
from reading_assistant.core.library import FAILED, INDEXED, WAITING, IndexerBusy, Library, LibraryError, kept_document
from reading_assistant.core.library.indexer import Indexer
from reading_assistant.core.library.passages import PASSAGE_CHARS, passage_spans
from reading_assistant.core.library.store import SCHEMA_VERSION, LibraryStore

CURIE = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on radioactivity.\n\n"
    "She was born in Warsaw in 1867 and moved to Paris in 1891, where she studied at the Sorbonne.\n"
)
GARDENS = "# Gardens\n\nThe walled garden was planted in 1820 with pear trees along its southern wall.\n"
RIVERS = "The Vistula is the longest river in Poland, flowing 1,047 kilometres to the Baltic Sea.\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shelf(tmp_path) -> Path:
    root = tmp_path / "shelf"
    write(root / "curie.txt", CURIE)
    write(root / "notes" / "gardens.md", GARDENS)
    write(root / "notes" / "deeper" / "rivers.txt", RIVERS)
    write(root / ".hidden" / "secret.txt", "Not for the library.")
    write(root / "program.exe", "MZ binary")
    (root / "notes" / "loop").symlink_to(root, target_is_directory=True)  # a link back up the tree
    return root


@pytest.fixture
def library(tmp_path) -> Library:
    opened = Library(tmp_path / "data" / "library.sqlite3")
    yield opened
    opened.close()


def names(library: Library, folder: str | None = None) -> list[str]:
    return sorted(d.name for d in library.documents(folder))


def test_a_folder_is_found_read_and_searched_by_its_words(library, shelf):
    assert library.add(shelf) == str(shelf.resolve())
    result = library.sync()
    # Hidden folders, unsupported files and the link loop add nothing; each file is found once.
    assert result.added == 3 and names(library) == ["curie.txt", "gardens.md", "rivers.txt"]
    assert {d.state for d in library.documents()} == {WAITING}
    progress = list(library.index())
    assert [p.done for p in progress] == [1, 2, 3] and progress[-1].total == 3 and progress[-1].seconds_left == 0
    assert {d.state for d in library.documents()} == {INDEXED}
    hits = library.search("Where was Marie Curie born?")
    assert hits[0].name == "curie.txt" and "Warsaw" in hits[0].text
    document = library.document(hits[0].path)
    assert document.text[hits[0].start : hits[0].end] == hits[0].text
    # One folder of the library only.
    assert [h.name for h in library.search("pear trees garden", folder=str(shelf / "notes"))] == ["gardens.md"]
    assert library.search("pear trees garden", folder=str(shelf / "notes" / "deeper")) == []


def test_changed_moved_and_deleted_files_are_noticed(library, shelf):
    library.add(shelf)
    library.sync()
    list(library.index())
    write(shelf / "curie.txt", CURIE + "\nShe won the Nobel Prize in Chemistry in 1911.\n")
    (shelf / "notes" / "gardens.md").rename(shelf / "gardens-moved.md")
    (shelf / "notes" / "deeper" / "rivers.txt").unlink()
    result = library.sync()
    assert (result.added, result.changed, result.removed) == (1, 1, 2)
    assert names(library) == ["curie.txt", "gardens-moved.md"]
    list(library.index())
    assert library.search("Nobel Prize chemistry")[0].name == "curie.txt"
    assert library.search("Vistula Baltic") == []


def test_a_folder_or_a_file_is_taken_out_and_stays_out(library, shelf):
    library.add(shelf)
    library.sync()
    assert library.remove(shelf / "notes") == 2
    library.sync()  # the folder it was in does not bring it back
    assert names(library) == ["curie.txt"]
    library.add(shelf / "notes")  # taken back in: it belongs to the folder added before
    library.sync()
    assert names(library) == ["curie.txt", "gardens.md", "rivers.txt"]
    assert library.remove(shelf) == 3 and library.folders() == [] and library.documents() == []
    with pytest.raises(InputError, match="not in the library"):
        library.remove(shelf)
    with pytest.raises(InputError, match="does not exist"):
        library.add(shelf / "nowhere")


def test_indexing_stopped_half_way_goes_on_where_it_stopped(library, shelf):
    library.add(shelf)
    library.sync()
    read = []
    with pytest.raises(Cancelled):
        for progress in library.index(should_stop=lambda: len(read) >= 1):
            read.append(progress.name)
    assert sorted(d.state for d in library.documents()) == [INDEXED, WAITING, WAITING]
    again = Library(library.path)  # as after a restart
    rest = [p.name for p in again.index()]
    again.close()
    assert len(rest) == 2 and read[0] not in rest
    assert {d.state for d in library.documents()} == {INDEXED}


def test_files_that_cannot_be_read_say_why_and_one_that_changes_while_read_waits(library, tmp_path):
    root = tmp_path / "mixed"
    write(root / "broken.pdf", "%PDF-1.4 this is not really a PDF")
    moving = write(root / "moving.txt", "At first the text said one thing.")
    library.add(root)
    library.sync()

    def load_while_it_changes(path, options):
        document = load_document(path, options)
        if path == moving:
            write(moving, "Then it said another, longer thing while it was being read.")
        return document

    list(Indexer(library.store, load=load_while_it_changes).run())
    states = {d.name: (d.state, d.error) for d in library.documents()}
    assert states["broken.pdf"][0] == FAILED and "damaged" in states["broken.pdf"][1]
    assert states["moving.txt"] == (WAITING, None)
    list(library.index())  # read again, now that it stands still
    assert library.search("longer thing")[0].name == "moving.txt"


def test_a_full_disk_keeps_what_was_indexed_and_says_so(library, tmp_path):
    root = tmp_path / "big"
    write(root / "a-small.txt", CURIE)
    write(root / "b-large.txt", "\n\n".join(f"Paragraph {n} about rivers and gardens." * 20 for n in range(400)))
    library.add(root)
    library.sync()
    pages = library.store.read("PRAGMA page_count")[0][0]
    library.store.connection.execute(f"PRAGMA max_page_count = {pages + 30}")  # a disk that fills up
    with pytest.raises(LibraryError, match="disk is full"):
        list(library.index())
    states = {d.name: d.state for d in library.documents()}
    assert states == {"a-small.txt": INDEXED, "b-large.txt": WAITING}
    assert library.search("Marie Curie Warsaw")[0].name == "a-small.txt"


def test_a_damaged_index_is_set_aside_and_a_newer_one_is_left_alone(tmp_path):
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    library = Library(path)
    assert "set aside" in library.notice and library.folders() == []
    library.close()
    assert [p.name for p in tmp_path.glob("library.sqlite3.damaged-*")]

    newer = tmp_path / "newer.sqlite3"
    connection = sqlite3.connect(newer)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = newer.read_bytes()
    with pytest.raises(LibraryError, match="newer version"):
        LibraryStore(newer)
    assert newer.read_bytes() == before


def test_two_indexers_never_read_the_same_library_at_once(library, shelf):
    library.add(shelf)
    library.sync()
    other = Library(library.path)  # another window on the same file
    running = library.index()
    next(running)
    with pytest.raises(IndexerBusy, match="Another window"):
        next(other.index())
    list(running)  # the first finishes; the lease is given back
    assert list(other.index()) == []
    other.close()


def test_a_folder_of_thousands_of_files_is_synced_in_batches(library, tmp_path):
    root = tmp_path / "many"
    for n in range(2_500):
        write(root / f"d{n % 25}" / f"note-{n}.txt", f"Note number {n} about item {n}.")
    library.add(root)
    assert library.sync().added == 2_500
    assert library.counts()[WAITING] == 2_500
    assert library.sync().added == 0


def test_passages_are_whole_paragraphs_up_to_the_limit_and_skip_contents():
    paragraphs = [f"Paragraph {n}. " + "Words of a sentence go on. " * (3 + n % 40) for n in range(60)]
    text = "\n\n".join(paragraphs)
    contents = (text.index("Paragraph 10."), text.index("Paragraph 12."))
    spans = passage_spans(text, skipped=[contents])
    assert all(e - s <= PASSAGE_CHARS for s, e in spans)
    assert all(b[0] >= a[1] for a, b in pairwise(spans))
    assert not any(s < contents[1] and e > contents[0] for s, e in spans)
    assert all(text[s].strip() and text[e - 1].strip() for s, e in spans)
    long_one = "This sentence is long enough. " * 100
    cut = passage_spans(long_one)
    assert len(cut) >= 3 and all(long_one[s:e].endswith(".") for s, e in cut[:-1])
    assert passage_spans("\n\n---\n\n12 34\n\n") == []


def test_the_library_is_asked_and_each_answer_names_its_document(library, shelf):
    library.add(shelf)
    library.sync()
    list(library.index())
    engine = open_engine()
    prediction = library.ask(engine, "In which city was Marie Curie born?")
    best = prediction.answers[0]
    assert best.text == "Warsaw" and best.name == "curie.txt"
    document = library.document(best.path)
    assert document.text[best.start : best.end] == "Warsaw"
    assert prediction.documents >= 1 and prediction.passages >= 1
    nothing = library.ask(engine, "zzyzx qwertyuiop")
    assert nothing.answers == [] and not nothing.has_answer and nothing.no_answer_score == 1.0


def test_a_folder_taken_out_while_its_file_is_read_does_not_stop_indexing(library, shelf):
    library.add(shelf)
    library.sync()

    def load_and_remove_notes(path, options):
        document = load_document(path, options)
        if path.name == "gardens.md":
            library.remove(shelf / "notes")  # the reader takes its folder out while it is read
        return document

    list(Indexer(library.store, load=load_and_remove_notes).run())
    assert names(library) == ["curie.txt"] and {d.state for d in library.documents()} == {INDEXED}
    with pytest.raises(InputError, match="cannot be used"):
        library.add(shelf / ("x" * 300))


def test_a_file_opened_again_comes_from_the_library_while_it_is_unchanged(library, shelf):
    library.add(shelf)
    library.sync()
    list(library.index())
    curie = shelf / "curie.txt"
    kept = kept_document(curie, library.path)
    fresh = load_document(curie)
    assert kept is not None and (kept.text, kept.name, kept.sections) == (fresh.text, fresh.name, fresh.sections)
    assert kept.origin == str(curie)
    write(curie, CURIE + "A new line.\n")  # changed since it was indexed: read from the file again
    assert kept_document(curie, library.path) is None
    assert kept_document(shelf / "nowhere.txt", library.path) is None
    assert kept_document(curie, library.path.with_name("no-library.sqlite3")) is None


def test_files_whose_names_say_nothing_are_taken_when_their_bytes_are_text(library, tmp_path):
    root = tmp_path / "licences"
    write(root / "LICENSE", "Permission is hereby granted, free of charge, to any person obtaining a copy.\n")
    write(root / "Apache-2.0", "Licensed under the Apache License, Version 2.0.\n")
    (root / "program").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(600))
    (root / "photo.raw").write_bytes(b"RAW" + bytes(100))
    library.add(root)
    assert library.sync().added == 2 and names(library) == ["Apache-2.0", "LICENSE"]
    list(library.index())
    assert library.search("Permission granted free of charge")[0].name == "LICENSE"
    with pytest.raises(InputError, match="unsupported file type"):
        library.add(root / "program")


def test_a_folder_taken_out_leaves_none_of_its_words_in_the_file(library, shelf):
    library.add(shelf)
    library.sync()
    list(library.index())
    library.remove(shelf / "notes")
    library.store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = library.path.read_bytes()
    assert b"walled garden" not in data and b"Vistula" not in data
    assert b"Warsaw" in data  # what stays is still there


@pytest.fixture
def small_disk(tmp_path):
    """A file system of its own (tmpfs), to be made read-only: tests run as root, for whom file
    modes change nothing, so only a read-only mount shows what a read-only disk does."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_library_on_a_read_only_disk_is_searched_and_changes_are_refused(small_disk, shelf):
    path = small_disk / "library.sqlite3"
    library = Library(path)
    library.add(shelf)
    library.sync()
    list(library.index())
    library.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    reader = Library(path)
    assert "cannot be written" in reader.notice
    assert reader.search("Where was Marie Curie born?")[0].name == "curie.txt"
    with pytest.raises(LibraryError, match="read-only"):
        reader.add(shelf / "notes")
    with pytest.raises(LibraryError, match="read-only"):
        list(reader.index())
    reader.close()
