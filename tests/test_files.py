"""Fast tests for the file index parts that need no model: extraction, chunking, snippets, the manifest's
keyword index, folder resolution, settings. (The real index and search are in test_files_index.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import FilesSettings, load_settings
from agent.errors import ConfigError
from agent.files.chunk import chunk_text
from agent.files.extract import SkipFile, extract_text
from agent.files.indexer import chunk_id
from agent.files.manifest import FileEntry, Manifest
from agent.files.search import make_snippet
from agent.skills.files import display_path, resolve_folder
from tests.files_corpus import pdf_bytes, write_docx


def test_extract_text_markdown_code_pdf_docx(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\nSome *markdown*.", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    (tmp_path / "Makefile").write_text("all:\n\techo hi\n", encoding="utf-8")
    (tmp_path / "c.pdf").write_bytes(pdf_bytes(["Hello from a (real) PDF page.", "Second line."]))
    write_docx(tmp_path / "d.docx", ["First paragraph.", "Second paragraph about walnuts."])
    assert "Some *markdown*" in extract_text(tmp_path / "a.md")
    assert "return 1" in extract_text(tmp_path / "b.py")
    assert "echo hi" in extract_text(tmp_path / "Makefile")
    pdf = extract_text(tmp_path / "c.pdf")
    assert "Hello from a (real) PDF page." in pdf
    assert "Second line." in pdf
    assert "walnuts" in extract_text(tmp_path / "d.docx")


def test_extract_skips_binaries_unsupported_and_missing_libraries(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\x00\x01\x02\x03" * 100)
    (tmp_path / "x.txt").write_bytes(b"text with a \x00 NUL byte is binary")
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    reasons = {}
    for name in ("blob", "x.txt", "img.png", "empty.md", "broken.pdf", "sheet.xlsx"):
        with pytest.raises(SkipFile) as info:
            extract_text(tmp_path / name)
        reasons[name] = info.value.reason
    assert reasons["blob"] == reasons["x.txt"] == "binary"
    assert reasons["img.png"] == "unsupported type .png"
    assert reasons["empty.md"] == "no text"
    assert reasons["broken.pdf"].startswith("unreadable")
    assert "openpyxl" in reasons["sheet.xlsx"]  # not installed here: skipped with the reason


def test_latin1_text_is_read(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes("Café crème à Genève".encode("latin-1"))
    assert extract_text(tmp_path / "old.txt") == "Café crème à Genève"


def test_chunks_overlap_and_respect_size() -> None:
    words = [f"word{i}" for i in range(600)]
    text = " ".join(words)
    chunks = chunk_text(text, size=200, overlap=50)
    assert all(len(c) <= 200 for c in chunks)
    assert len(chunks) > 20
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.split()[0] in a  # each chunk begins inside the previous one
    seen = set(" ".join(chunks).split())
    assert seen == set(words)  # nothing lost


def test_chunks_prefer_paragraph_and_sentence_ends() -> None:
    text = ("First paragraph sentence one. Sentence two is here.\n\n" * 3) + "Tail."
    chunks = chunk_text(text, size=120, overlap=0)
    assert chunks[0].endswith("here.")
    assert chunk_text("", 100, 10) == []
    assert chunk_text("short", 100, 10) == ["short"]
    with pytest.raises(ValueError, match="positive"):
        chunk_text("x", 0, 0)


def test_chunk_ids_are_deterministic() -> None:
    assert chunk_id("/a/b.txt", 0) == chunk_id("/a/b.txt", 0)
    assert len({chunk_id("/a/b.txt", 0), chunk_id("/a/b.txt", 1), chunk_id("/a/c.txt", 0)}) == 3


def test_snippet_starts_near_the_query() -> None:
    text = ("filler words " * 60) + "the blue heron protocol keeps backups" + (" more filler" * 60)
    snippet = make_snippet(text, "blue heron protocol")
    assert snippet.startswith("…")
    assert snippet.index("blue heron protocol") < 60
    assert len(snippet) <= 245
    assert make_snippet("short text", "absent") == "short text"


def test_manifest_keyword_phrase_and_names(tmp_path: Path) -> None:
    m = Manifest(tmp_path / "m.sqlite")
    entries = [FileEntry("/d/heron.txt", "h1", 1, 10, 1), FileEntry("/d/other.md", "h2", 1, 10, 1)]
    m.commit_files(entries, [("c1", "/d/heron.txt", 0, "heron.txt", "the blue heron protocol for backups"),
                             ("c2", "/d/other.md", 0, "other.md", "a blue car and a heron in a protocol")])
    assert [h.path for h in m.phrase("blue heron protocol", 10)] == ["/d/heron.txt"]
    assert {h.path for h in m.keyword("heron", 10)} == {"/d/heron.txt", "/d/other.md"}
    assert m.keyword('"; DROP TABLE files; --', 10) == []  # quoted terms: no FTS syntax from the query
    assert m.phrase_files("Blue  heron, protocol!", 10) == ["/d/heron.txt"]
    assert m.phrase_files("heron", 1) == ["/d/heron.txt", "/d/other.md"]  # limit + 1: "more than limit"
    assert m.files_named("HERON.txt") == ["/d/heron.txt"]
    assert m.files_named("other") == ["/d/other.md"]
    m.remove(["/d/heron.txt"])
    assert m.phrase("blue heron protocol", 10) == []
    assert m.file_count() == 1
    assert m.chunk_text("/d/other.md") == "a blue car and a heron in a protocol"


def test_resolve_folder_spoken_and_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))  # the desktop's folders (user-dirs.dirs) are the environment's home's
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    (home / "Documents" / "tax").mkdir(parents=True)
    (home / "projects").mkdir()
    assert resolve_folder("~/Documents", home) == home / "Documents"
    assert resolve_folder("documents folder", home) == home / "Documents"
    assert resolve_folder("my docs", home) == home / "Documents"
    assert resolve_folder("the projects directory", home) == home / "projects"
    assert resolve_folder("home", home) == home
    assert resolve_folder(str(home / "Documents" / "tax"), home) == home / "Documents" / "tax"
    assert resolve_folder("Documents/tax", home) == home / "Documents" / "tax"
    assert resolve_folder("music folder", home) is None
    assert resolve_folder("my files", home) is None  # not the whole home folder
    assert resolve_folder("/no/such/place", home) is None
    (home / ".config").mkdir()
    (home / "Dokumente").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text('XDG_DOCUMENTS_DIR="$HOME/Dokumente"\n', encoding="utf-8")
    assert resolve_folder("documents", home) == home / "Dokumente"
    assert display_path(home / "Documents" / "tax", home) == "~/Documents/tax"
    assert display_path("/srv/x", home) == "/srv/x"


def test_files_settings_from_yaml(paths) -> None:
    paths.config_file.write_text("files:\n  chroma_url: http://127.0.0.1:8000\n  chunk_chars: 500\n"
                                 "  exclude: ['*.log', 'archive']\n", encoding="utf-8")
    s = load_settings(paths)
    assert s.files.chroma_url == "http://127.0.0.1:8000"
    assert s.files.chunk_chars == 500
    assert s.files.exclude == ["*.log", "archive"]
    assert FilesSettings().chroma_url is None
    paths.config_file.write_text("files:\n  chunk_size: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'files.chunk_size' \(line 2\)"):
        load_settings(paths)


def test_a_lone_clear_match_outvotes_the_top_of_a_crowd() -> None:
    from agent.files.search import _standout

    crowd = _standout([0.35, 0.349, 0.348, 0.347] + [0.30] * 46)
    lone = _standout([0.58, 0.24, 0.236, 0.233] + [0.20] * 46)
    assert lone[0] > 1.5 * crowd[0]
    assert min(crowd + lone) == 0.0  # below the list's mean: no vote
    assert _standout([0.4] * 10) == [0.0] * 10
    assert _standout([]) == []


def test_sentences_split_on_ends_and_lines_without_repeats() -> None:
    from agent.files.search import sentences

    text = ("# Vet visit notes\n\nThe cat needs her rabies booster. The heating was repaired on Monday! "
            "The heating was repaired on Monday! Ok.\n- Next check: in March at the clinic")
    assert sentences(text) == ["Vet visit notes", "The cat needs her rabies booster.",
                               "The heating was repaired on Monday!", "in March at the clinic"]
    assert sentences(text, 2) == ["Vet visit notes", "The cat needs her rabies booster."]
    assert sentences("") == []


def test_cross_check_scores_a_file_by_its_best_sentence() -> None:
    import numpy as np

    from agent.files.search import _cross_check

    axes = {"booster": [1.0, 0.0], "heating": [0.0, 1.0]}

    class Fake:
        def embed(self, texts: list[str]) -> np.ndarray:
            return np.asarray([next(v for k, v in axes.items() if k in t) for t in texts], dtype=np.float32)

    query = np.asarray([1.0, 0.0], dtype=np.float32)
    diluted = "The heating was repaired on Monday. The cat needs her rabies booster. The heating is on again."
    related = "The heating engineer came twice. The heating bill went up."
    assert _cross_check(Fake(), query, [("a", diluted), ("b", related), ("c", "")]) == [1.0, 0.0, 0.0]


def test_manifest_generation_changes_with_every_store_change(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "m.sqlite")
    other = Manifest(tmp_path / "m.sqlite")  # another process's view of the same file
    seen = [other.generation()]
    manifest.commit_files([FileEntry("/a.txt", "x", 1, 1, 1)], [("c1", "/a.txt", 0, "a.txt", "alpha")])
    seen.append(other.generation())
    manifest.remove(["/a.txt"])
    seen.append(other.generation())
    manifest.clear_files()
    seen.append(other.generation())
    manifest.touch("/a.txt", 2, 2)  # the stat changed, not the chunks
    seen.append(other.generation())
    assert seen == [0, 1, 2, 3, 3]
