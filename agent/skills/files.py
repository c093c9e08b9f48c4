"""`files.index`, `files.search` and `files.status`: index a folder, search its contents (hybrid semantic +
keyword), and say how far the indexing is.

In the resident agent `files.index` queues a background job and answers at once with the folder and a file-count
estimate (`agent.files.job`); elsewhere (`agent ask`) it indexes before it answers.

Indexing reads the user's files and writes only the agent's own data (`<data>/files`); it changes nothing
else on the system. File contents are data: a file that says "ignore previous instructions" is returned as
a snippet like any other text, and nothing in it is ever run.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from pydantic import Field

from agent.errors import ModelError
from agent.events import SkillResult
from agent.files import FileIndex, IndexPathError, StoreError, index_for, search_files
from agent.files.job import IndexJobs, JobStatus, describe
from agent.skills.base import Args, NoArgs, QueryArgs, Register, Skill, SkillContext
from agent.skills.extractors import FOLDERS, extract_query
from agent.userdirs import USER_FOLDERS, user_folder

__all__ = ["display_path", "register", "resolve_folder"]

_LOGGER = logging.getLogger(__name__)

_FILLER = re.compile(r"\b(?:my|the|a|folder|directory|dir|files?|please|in|on)\b", re.IGNORECASE)
# "reindex my files", "update the index", "all folders": every folder indexed so far
_ALL = re.compile(r"^\s*(?:(?:all|every|my|the|of)\s+)*(?:files?|folders?|everything|all|(?:file\s+|search\s+)?index"
                  r"(?:ed\s+(?:files|folders))?)\s*$", re.IGNORECASE)
_ALIASES = {
    "docs": "documents", "document": "documents", "download": "downloads", "picture": "pictures",
    "photos": "pictures", "photo": "pictures", "images": "pictures", "movies": "videos", "video": "videos",
    "project": "projects", "song": "music", "songs": "music",
}


class FilesIndexArgs(Args):
    path: str = Field(min_length=1, max_length=4096)


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def resolve_folder(text: str, home: Path | None = None) -> Path | None:
    """A spoken or typed folder ("~/Documents", "documents folder", "/data/reports") to an existing path."""
    home = home or _home()
    raw = text.strip().strip("\"'")
    if raw.startswith(("~", "/", ".")) or "/" in raw:
        path = Path(raw.replace("~", str(home), 1) if raw.startswith("~") else raw)
        path = path if path.is_absolute() else home / path
        return path if path.exists() else None
    words = re.sub(r"\s+", " ", _FILLER.sub(" ", raw)).strip().lower()
    if not words:
        return None
    if words == "home":
        return home
    name = _ALIASES.get(words, words)
    candidates = [home / raw, home / name]
    if name in USER_FOLDERS:  # the desktop's own folder first (localised: ~/Dokumente)
        candidates.insert(0, user_folder(name))
    for path in candidates:
        if path.exists():
            return path
    try:  # a case-insensitive match among the home folder's own folders ("documents" → Documents)
        for child in home.iterdir():
            if child.is_dir() and child.name.lower() in (name, name.replace(" ", "_"), name.replace(" ", "-")):
                return child
    except OSError:
        return None
    return None


def display_path(path: Path | str, home: Path | None = None) -> str:
    """`/home/u/Documents` → `~/Documents`."""
    home = home or _home()
    p = Path(path)
    try:
        rel = p.relative_to(home)
    except ValueError:
        return str(p)
    return "~" if not rel.parts else f"~/{rel}"


def _index_for(ctx: SkillContext) -> FileIndex:
    return index_for(ctx.services)


def _search(args: QueryArgs, ctx: SkillContext) -> SkillResult:
    try:
        index = _index_for(ctx)
        if index.manifest.file_count() == 0:
            return SkillResult.error("No files are indexed yet. Ask me to index a folder first, "
                                     "like 'index my documents folder'.", query=args.query, results=[])
        response = search_files(index, args.query, args.limit)
    except (StoreError, ModelError) as exc:
        return SkillResult.error(f"I can't search files right now: {exc}", error=str(exc))
    data = response.to_json()
    if not response.results:
        return SkillResult.ok(f"I found nothing matching '{args.query}' in your indexed files.", **data)
    top = Path(response.results[0].path)
    more = len(response.results) - 1
    reply = f"The best match is {top.name} in {display_path(top.parent)}" + (f" (and {more} more)." if more else ".")
    return SkillResult.ok(reply, **data)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _reply(files: int, skipped: int, seconds: float) -> str:
    return f"Indexed {_plural(files, 'file')}" + (f" ({skipped} skipped)" if skipped else "") + f" in {seconds:.1f} s."


def _jobs(ctx: SkillContext) -> IndexJobs | None:
    return ctx.services.files.jobs if ctx.services.files is not None else None


def _about(status: JobStatus) -> str:
    return f"{'about ' if status.estimate_complete else 'at least '}{status.estimate:,} " + (
        "file" if status.estimate == 1 else "files")


def _queue(jobs: IndexJobs, folders: list[Path]) -> SkillResult:
    """Background jobs (the resident agent): answer at once with the folder and an estimate."""
    started: list[JobStatus] = []
    running: list[JobStatus] = []
    for folder in folders:
        status, new = jobs.submit(folder)
        (started if new else running).append(status)
    parts = [f"indexing {display_path(s.root)}, {_about(s)}" for s in started]
    parts += [f"{display_path(s.root)} is already being indexed ({s.done:,} of {s.total or s.estimate:,} files)"
              for s in running]
    reply = "; ".join(parts)
    reply = reply[0].upper() + reply[1:] + ("; I'll tell you when it's done." if started else ".")
    statuses = [*started, *running]
    return SkillResult.ok(reply, background=True, jobs=[s.to_json() for s in statuses],
                          path=statuses[0].root, estimate=statuses[0].estimate)


def _reindex_all(ctx: SkillContext) -> SkillResult:
    """"reindex my files": bring every folder indexed so far up to date."""
    try:
        index = _index_for(ctx)
        roots = index.roots()
        if not roots:
            return SkillResult.error("Nothing is indexed yet. Tell me which folder, like 'index my documents "
                                     "folder'.", roots=[])
        jobs = _jobs(ctx)
        if jobs is not None:
            existing = [Path(r) for r in roots if Path(r).exists()]
            if existing:
                return _queue(jobs, existing)
        reports, missing = [], []
        for root in roots:
            try:
                reports.append(index.index(root))
            except IndexPathError:
                missing.append(root)
    except (StoreError, ModelError) as exc:
        return SkillResult.error(f"I can't index files right now: {exc}", error=str(exc))
    reply = _reply(sum(r.files for r in reports), sum(r.skipped for r in reports), sum(r.seconds for r in reports))
    if missing:
        reply += f" {_plural(len(missing), 'indexed folder')} no longer exist{'s' if len(missing) == 1 else ''}."
    return SkillResult.ok(reply, roots=[r.to_json() for r in reports], missing=missing)


def _index(args: FilesIndexArgs, ctx: SkillContext) -> SkillResult:
    if _ALL.match(args.path):
        return _reindex_all(ctx)
    folder = resolve_folder(args.path)
    if folder is None:
        return SkillResult.error(f"I can't find a folder called '{args.path}'.", path=args.path)
    jobs = _jobs(ctx)
    if jobs is not None:
        try:
            return _queue(jobs, [folder])
        except StoreError as exc:
            return SkillResult.error(f"I can't index files right now: {exc}", error=str(exc))
    try:
        report = _index_for(ctx).index(folder)
    except IndexPathError as exc:
        return SkillResult.error(f"I can't index {args.path}: it does not exist.", path=args.path, error=str(exc))
    except (StoreError, ModelError) as exc:
        return SkillResult.error(f"I can't index files right now: {exc}", error=str(exc))
    watcher = ctx.services.files.watcher if ctx.services.files is not None else None
    if watcher is not None and folder.is_dir():
        watcher.add_root(folder)  # the resident agent keeps it current from now on
    return SkillResult.ok(_reply(report.files, report.skipped, report.seconds), path=str(folder),
                          **report.to_json())


def _status(args: NoArgs, ctx: SkillContext) -> SkillResult:
    """"how far is the indexing": the running job (or the last one), else what the index holds."""
    jobs = _jobs(ctx)
    statuses = jobs.jobs() if jobs is not None else []
    running = [s for s in statuses if s.running]
    if running:
        current = next((s for s in running if s.state == "indexing"), running[0])
        reply = describe(current)
        queued = len(running) - 1
        if queued:
            reply += f" {_plural(queued, 'more folder')} after that."
        return SkillResult.ok(reply, running=True, jobs=[s.to_json() for s in statuses])
    try:
        index = _index_for(ctx)
        files, roots = index.manifest.file_count(), index.roots()
    except (StoreError, RuntimeError) as exc:
        return SkillResult.error(f"I can't read the file index: {exc}", error=str(exc))
    last = f" The last run: {describe(statuses[0])}" if statuses else ""
    if not files:
        return SkillResult.ok("No indexing is running, and no files are indexed yet." + last, running=False,
                              files=0, jobs=[s.to_json() for s in statuses])
    where = ", ".join(display_path(r) for r in roots[:3]) + (" and more" if len(roots) > 3 else "")
    return SkillResult.ok(f"No indexing is running; {_plural(files, 'file')} indexed in {where}." + last,
                          running=False, files=files, roots=roots, jobs=[s.to_json() for s in statuses])


# -- arguments from the words (the router's rule extractor for these skills) --------------------
def _extract_index(t: str) -> dict[str, Any]:
    m = re.search(r"(~?/[\w./-]+)", t)
    if m:
        return {"path": m.group(1)}
    for word, path in FOLDERS.items():
        if re.search(rf"\b{word}\b", t):
            return {"path": path}
    m = re.search(r"\b(?:index|scan|reindex|re-index|crawl|add|include|put)\s+(?:my\s+|the\s+)?([\w.-]+)\s+"
                  r"(?:folder|directory|dir)", t)
    if m:
        return {"path": f"~/{m.group(1)}"}
    if re.search(r"\b(?:reindex|re-index|rebuild|update|refresh)\b|\b(?:my files|everything|all (?:my )?(?:files|"
                 r"folders))\b", t):
        return {"path": "my files"}  # the skill re-indexes every folder it already indexes
    return {}


def register(reg: Register) -> None:
    reg(Skill("files.search", "search the contents of indexed files",
              args=QueryArgs, run=_search, extract=extract_query))
    reg(Skill("files.index", "index a folder so its files can be searched",
              args=FilesIndexArgs, run=_index, extract=_extract_index))
    reg(Skill("files.status", "how far the background indexing of a folder is", run=_status))
