"""Split text into overlapping chunks that end at paragraph, sentence or word boundaries where possible."""

from __future__ import annotations

import re

__all__ = ["chunk_text"]

_WS = re.compile(r"[ \t\f\v]+")
_BLANKS = re.compile(r"\n{3,}")
# preferred places to cut, best first: a blank line, a line end, a sentence end, any whitespace
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", " ")


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_WS.sub(" ", line).rstrip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def _cut(text: str, start: int, size: int) -> int:
    """Where the chunk starting at `start` ends: the best break in its last half, else `start + size`."""
    end = start + size
    if end >= len(text):
        return len(text)
    window = text[start:end]
    floor = size // 2
    for brk in _BREAKS:
        pos = window.rfind(brk)
        if pos >= floor:
            return start + pos + len(brk)
    return end


def chunk_text(text: str, size: int = 800, overlap: int = 120) -> list[str]:
    """Chunks of at most `size` characters; each starts about `overlap` characters before the previous end."""
    if size < 1:
        raise ValueError("chunk size must be positive")
    overlap = max(0, min(overlap, size // 2))
    text = _normalise(text)
    if not text:
        return []
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = _cut(text, start, size)
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= len(text):
            break
        nxt = max(end - overlap, start + 1)
        if overlap:  # begin the overlap at a word boundary
            space = text.find(" ", nxt, end)
            nxt = space + 1 if space != -1 else nxt
        start = nxt
    return chunks
