"""Text out of a file: plain text, markdown, code, PDF, .docx (and .odt/.xlsx when their library is installed).

`extract_text(path)` returns the text or raises `SkipFile` with the reason the file is not indexed (binary,
unsupported type, a library that is not installed, unreadable). Nothing here executes or interprets content:
whatever a file says is returned as text, as data.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

__all__ = ["CODE_EXTENSIONS", "TEXT_EXTENSIONS", "SkipFile", "extract_text", "is_supported"]

_LOGGER = logging.getLogger(__name__)

TEXT_EXTENSIONS = frozenset({
    ".txt", ".text", ".md", ".markdown", ".rst", ".org", ".adoc", ".tex", ".csv", ".tsv", ".log", ".json",
    ".jsonl", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".html", ".htm", ".srt", ".vtt",
    ".eml", ".ics", ".vcf", ".bib", ".properties",
})
CODE_EXTENSIONS = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".kts", ".scala", ".c", ".h",
    ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".go", ".rs", ".rb", ".php", ".pl", ".pm", ".sh", ".bash",
    ".zsh", ".fish", ".ps1", ".bat", ".sql", ".swift", ".m", ".mm", ".r", ".jl", ".lua", ".dart", ".hs", ".ex",
    ".exs", ".erl", ".clj", ".el", ".vim", ".css", ".scss", ".sass", ".less", ".vue", ".svelte", ".proto",
    ".graphql", ".tf", ".nix", ".cmake", ".gradle", ".zig", ".nim", ".ml", ".mli", ".fs", ".ipynb",
})
_TEXT_NAMES = frozenset({
    "readme", "license", "licence", "copying", "authors", "changelog", "notice", "makefile", "dockerfile",
    "containerfile", "vagrantfile", "gemfile", "rakefile", "procfile", "justfile", "todo",
})
_OPTIONAL = {".odt": "odf", ".ods": "odf", ".xlsx": "openpyxl"}
_SNIFF_BYTES = 8192
_MAX_CHARS = 5_000_000  # a larger text is cut: the rest is not indexed
_warned: set[str] = set()


class SkipFile(Exception):  # noqa: N818 - a signal with a reason, not an error
    """The file is not indexed; `reason` says why (shown in the index report)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in TEXT_EXTENSIONS or suffix in CODE_EXTENSIONS:
        return "text"
    if suffix in (".pdf", ".docx"):
        return suffix[1:]
    if suffix in _OPTIONAL:
        return suffix[1:]
    if not suffix or path.name.lower() in _TEXT_NAMES or path.stem.lower() in _TEXT_NAMES:
        return "sniff"
    return None


def is_supported(path: Path) -> bool:
    """Whether the file's type is one we extract (by name only; content may still turn out binary)."""
    return _kind(path) is not None


def extract_text(path: Path) -> str:
    """The file's text, or raise `SkipFile`."""
    kind = _kind(path)
    if kind is None:
        raise SkipFile(f"unsupported type {path.suffix or '(none)'}")
    try:
        if kind in ("text", "sniff"):
            text = _read_text(path)
        elif kind == "pdf":
            text = _pdf(path)
        elif kind == "docx":
            text = _docx(path)
        else:
            text = _optional(path, kind)
    except SkipFile:
        raise
    except Exception as exc:  # a corrupt document must not stop an index run
        _LOGGER.warning("cannot read %s: %s", path, exc)
        raise SkipFile(f"unreadable: {exc.__class__.__name__}") from exc
    text = text.replace("\x00", "")
    if len(text) > _MAX_CHARS:
        _LOGGER.info("%s: only the first %d characters are indexed", path, _MAX_CHARS)
        text = text[:_MAX_CHARS]
    if not text.strip():
        raise SkipFile("no text")
    return text


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise SkipFile("binary")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        head = data[:_SNIFF_BYTES]
        printable = sum(32 <= b < 127 or b >= 160 or b in (9, 10, 13) for b in head)
        if head and printable / len(head) < 0.85:
            raise SkipFile("binary") from None
        return data.decode("latin-1")


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:
            raise SkipFile("encrypted PDF") from None
    pages = [page.extract_text() or "" for page in reader.pages]
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                parts.append(" | ".join(cells))
    return "\n".join(parts)


def _optional(path: Path, kind: str) -> str:
    module = _OPTIONAL[f".{kind}"]
    if importlib.util.find_spec(module) is None:
        if kind not in _warned:
            _warned.add(kind)
            _LOGGER.info(".%s files are skipped: the %s library is not installed", kind, module)
        raise SkipFile(f".{kind} needs the {module} library, which is not installed")
    if kind == "xlsx":  # pragma: no cover - only with openpyxl installed
        return _xlsx(path)
    return _odf(path)  # pragma: no cover - only with odfpy installed


def _xlsx(path: Path) -> str:  # pragma: no cover - only with openpyxl installed
    import openpyxl  # type: ignore[import-untyped, import-not-found, unused-ignore]

    book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    rows = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = [str(c) for c in row if c is not None]
            if cells:
                rows.append(" | ".join(cells))
    return "\n".join(rows)


def _odf(path: Path) -> str:  # pragma: no cover - only with odfpy installed
    from odf import teletype  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from odf.opendocument import load  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from odf.text import P  # type: ignore[import-untyped, import-not-found, unused-ignore]

    document = load(str(path))
    return "\n".join(str(teletype.extractText(p)) for p in document.getElementsByType(P))
