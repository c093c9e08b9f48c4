"""Secret-bearing files are never indexed, and search never shows a file since excluded or deleted.

The names are checked without a model; the index test uses the real MiniLM embedder, a real Chroma store and
real SQLite FTS5, and then looks in both stores directly for the secrets' text."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import FilesSettings
from agent.files import FileIndex, search_files
from agent.files.secrets import holds_private_key, secret_path
from agent.paths import Paths
from agent.services import Services

KEY_MARK = "QmVhdmVyS2V5TWF0ZXJpYWw"  # a token that appears only inside the secrets
PRIVATE_KEY = (f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA{KEY_MARK}AAAAAAAAAAAA\n"
               "-----END OPENSSH PRIVATE KEY-----\n")


@pytest.mark.parametrize("path", [
    "/home/u/.ssh/id_rsa", "/home/u/keys/id_ed25519.pub", "/home/u/Documents/server.pem", "/srv/tls/site.key",
    "/home/u/Documents/Passwords.kdbx", "/home/u/.password-store/bank.gpg", "/home/u/password-store/mail/x.txt",
    "/home/u/.gnupg/pubring.kbx", "/home/u/.mozilla/firefox/abc.default/prefs.js", "/home/u/app/.env",
    "/home/u/app/.env.production", "/home/u/app/prod.env", "/home/u/.config/google-chrome/Default/Preferences",
    "/home/u/.config/chromium/Default/History", "/home/u/.aws/credentials", "/home/u/.netrc",
    "/home/u/Library/Application Support/Google/Chrome/Default/Login Data", "/home/u/gcp/client_secret_1.json",
])
def test_secret_paths(path: str) -> None:
    assert secret_path(path)


@pytest.mark.parametrize("path", [
    "/home/u/Documents/notes.md", "/home/u/code/keyboard.py", "/home/u/projects/chromium-notes/build.md",
    "/home/u/Documents/environment.txt", "/home/u/Documents/ssh-howto.md", "/home/u/Music/opera/aida.txt",
])
def test_ordinary_paths(path: str) -> None:
    assert not secret_path(path)


def test_private_key_in_any_file() -> None:
    assert holds_private_key(PRIVATE_KEY)
    assert holds_private_key("-----BEGIN RSA PRIVATE KEY-----\nMIIE...")
    assert holds_private_key("-----BEGIN PGP PRIVATE KEY BLOCK-----\n...")
    assert not holds_private_key("-----BEGIN PUBLIC KEY-----\nMIIB...")


@pytest.fixture
def index(paths: Paths, shared_services: Services) -> Iterator[FileIndex]:
    ix = FileIndex(paths.data / "files", FilesSettings(), shared_services.embedder)
    yield ix
    ix.manifest.close()


def _stored_text(ix: FileIndex) -> str:
    chroma = ix.store._col.get(include=["documents", "metadatas"])
    with sqlite3.connect(ix.manifest.path) as db:
        fts = [r[0] for r in db.execute("SELECT name || ' ' || body FROM fts")]
    return "\n".join([*(d or "" for d in chroma["documents"]), *(str(m) for m in chroma["metadatas"]), *fts])


@pytest.mark.slow
def test_key_files_are_not_indexed(index: FileIndex, tmp_path: Path) -> None:
    home = tmp_path / "home"
    docs = home / "Documents"
    docs.mkdir(parents=True)
    (docs / "meeting.md").write_text("Minutes of the garden committee about the new compost bins.\n",
                                     encoding="utf-8")
    (docs / "id_rsa").write_text(PRIVATE_KEY, encoding="utf-8")
    (docs / "server.pem").write_text(PRIVATE_KEY, encoding="utf-8")
    (docs / "backup-of-my-key.txt").write_text(f"my old key, keep safe\n{PRIVATE_KEY}", encoding="utf-8")
    (docs / "prod.env").write_text(f"DB_PASSWORD={KEY_MARK}\n", encoding="utf-8")
    (docs / "Passwords.kdbx").write_bytes(b"\x03\xd9\xa2\x9a" + KEY_MARK.encode())
    store = docs / "password-store" / "bank"
    store.mkdir(parents=True)
    (store / "login.txt").write_text(f"password {KEY_MARK}\n", encoding="utf-8")
    ssh = home / ".ssh"
    ssh.mkdir()
    (ssh / "config.txt").write_text(f"Host example\n  IdentityFile {KEY_MARK}\n", encoding="utf-8")

    report = index.index(docs)
    assert report.files == 1  # meeting.md only
    reasons = {Path(s["path"]).name: s["reason"] for s in report.skipped_files}
    assert reasons["id_rsa"] == reasons["server.pem"] == reasons["prod.env"] == "may hold secrets"
    assert "login.txt" not in reasons  # a secret folder is left out whole, like a hidden one
    assert reasons["Passwords.kdbx"] == "may hold secrets"
    assert reasons["backup-of-my-key.txt"] == "holds a private key"
    assert index.index(ssh).files == 0  # pointing at a secret folder itself indexes nothing
    assert index.index(home).files == 1
    stored = _stored_text(index)
    assert "compost" in stored
    assert KEY_MARK not in stored
    assert "PRIVATE KEY" not in stored
    for query in (KEY_MARK, "id_rsa", "password bank login"):
        assert {Path(h.path).name for h in search_files(index, query).results} <= {"meeting.md"}


@pytest.mark.slow
def test_search_never_shows_excluded_or_deleted_files(index: FileIndex, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "private").mkdir(parents=True)
    (docs / "private" / "diary.md").write_text("The heron flew over the quiet lake at dawn.\n", encoding="utf-8")
    (docs / "lake.md").write_text("Notes on the lake: heron sightings and water levels.\n", encoding="utf-8")
    (docs / "gone.md").write_text("A heron nest by the lake, photographed in spring.\n", encoding="utf-8")
    index.index(docs)
    assert len(search_files(index, "heron lake").results) == 3
    (docs / "gone.md").unlink()  # deleted, no watcher and no re-index since
    index.settings = FilesSettings(exclude=["private"])  # excluded by the user after indexing
    names = [Path(h.path).name for h in search_files(index, "heron lake").results]
    assert names == ["lake.md"]
    index.index(docs)  # the next run forgets both
    assert index.manifest.file_count() == 1
    assert "diary" not in _stored_text(index)
