"""apps.open with real desktop entries in a temporary XDG tree, real program launches (they write marker
files), the real xdg-open on a real X server (Xvfb, started here), and the pure parts: target classification,
fuzzy matching, the platform plan."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from agent.events import ResultState, SkillResult
from agent.pipeline import Pipeline
from agent.services import Services
from agent.skills.apps import classify, open_plan
from agent.skills.desktop_entries import (
    DesktopEntry,
    application_dirs,
    default_browser_ids,
    exec_argv,
    load_entries,
    match_app,
)
from tests.conftest import xvfb

RECORDER = """#!/bin/sh
# records how it was started: one argument per line, in rec-<label>.txt next to this script
label="$1"
printf '%s\\n' "$@" > "$(dirname "$0")/rec-$label.txt"
"""


def _entry(directory: Path, desktop_id: str, **keys: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    body = "[Desktop Entry]\nType=Application\n" + "".join(f"{k}={v}\n" for k, v in keys.items())
    (directory / desktop_id).write_text(body + "\n[Desktop Action new]\nName=Ignored\nExec=false\n")


class Desk:
    """A temporary desktop: HOME, XDG data and config dirs, and a recorder program."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.apps = root / "data" / "applications"
        self.system_apps = root / "sysdata" / "applications"
        self.config = root / "config"
        self.rec = root / "rec"

    def recorded(self, label: str, timeout: float = 5.0) -> list[str]:
        path = self.root / f"rec-{label}.txt"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().endswith("\n"):
                return path.read_text().splitlines()
            time.sleep(0.02)
        return []


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:
    d = Desk(tmp_path / "desk")
    d.home.mkdir(parents=True)
    d.config.mkdir(parents=True)
    d.rec.parent.mkdir(parents=True, exist_ok=True)
    d.rec.write_text(RECORDER)
    d.rec.chmod(0o755)
    for key, value in {"HOME": d.home, "XDG_DATA_HOME": d.root / "data", "XDG_DATA_DIRS": d.root / "sysdata",
                       "XDG_CONFIG_HOME": d.config, "XDG_CONFIG_DIRS": d.root / "etc-xdg"}.items():
        monkeypatch.setenv(key, str(value))
    for key in ("BROWSER", "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION", "GNOME_DESKTOP_SESSION_ID",
                "WAYLAND_DISPLAY", "DISPLAY", "TERMINAL"):
        monkeypatch.delenv(key, raising=False)
    marker = d.root / "marker"
    _entry(d.apps, "marker-maker.desktop", Name="Marker Maker", Exec=f"touch {marker} %U", Categories="Utility;")
    _entry(d.apps, "fancy-term.desktop", Name="Fancy Term", Exec=f"{d.rec} term", Keywords="shell;prompt;",
           Categories="System;TerminalEmulator;")
    _entry(d.apps, "code.desktop", Name="Visual Studio Code", GenericName="Text Editor",
           Exec=f"{d.rec} code --new-window %F", Categories="Development;IDE;TextEditor;")
    _entry(d.apps, "alpha.desktop", Name="Alpha Browser", Exec=f"{d.rec} alpha %u", Categories="Network;WebBrowser;")
    _entry(d.system_apps, "zeta.desktop", Name="Zeta Browser", Exec=f"{d.rec} zeta %u",
           Categories="Network;WebBrowser;")
    _entry(d.apps, "vimlike.desktop", Name="Vimlike", Exec=f"{d.rec} vimlike %F", Terminal="true")
    _entry(d.apps, "napper.desktop", Name="Napper", Exec="sleep 30")
    _entry(d.apps, "secret.desktop", Name="Secret Tool", Exec=f"{d.rec} secret", NoDisplay="true")
    _entry(d.apps, "gone.desktop", Name="Gone App", Exec=f"{d.rec} gone", Hidden="true")
    _entry(d.system_apps, "gone.desktop", Name="Gone App", Exec=f"{d.rec} gone")  # hidden by the user's copy
    _entry(d.apps, "tried.desktop", Name="Tried App", Exec=f"{d.rec} tried", TryExec="no-such-program-4711")
    (d.config / "mimeapps.list").write_text("[Default Applications]\nx-scheme-handler/https=zeta.desktop\n")
    return d


def _open(services: Services, target: str) -> SkillResult:
    """Run apps.open as the pipeline does, without loading the router's models (one test uses the router)."""
    skill = services.registry.get("apps.open")
    assert skill is not None
    assert skill.run is not None
    return skill.run(skill.args.model_validate({"target": target}), services.context())


# -- desktop entries ------------------------------------------------------------------------------------------
def test_entries_load_with_precedence_hidden_and_tryexec(desk: Desk) -> None:
    assert application_dirs()[:2] == [desk.apps, desk.system_apps]
    entries = {e.id: e for e in load_entries()}
    assert set(entries) == {"marker-maker.desktop", "fancy-term.desktop", "code.desktop", "alpha.desktop",
                            "zeta.desktop", "vimlike.desktop", "napper.desktop", "secret.desktop"}
    assert entries["secret.desktop"].no_display
    assert entries["vimlike.desktop"].terminal
    assert entries["code.desktop"].categories == ("Development", "IDE", "TextEditor")
    assert entries["fancy-term.desktop"].keywords == ("shell", "prompt")


def test_exec_field_codes_quotes_and_escapes() -> None:
    def argv(exec_line: str) -> list[str]:
        return exec_argv(DesktopEntry("x.desktop", "/apps/x.desktop", "X App", exec_line, icon="xicon"))

    assert argv("code --new-window %F") == ["code", "--new-window"]
    assert argv("firefox %u") == ["firefox"]
    assert argv('"/opt/My App/run" --name=%c %i %k') == ["/opt/My App/run", "--name=X App", "--icon", "xicon",
                                                       "/apps/x.desktop"]
    assert argv("printf 100%% --file=%f") == ["printf", "100%", "--file="]
    assert argv("echo $HOME; rm -rf /") == ["echo", "$HOME;", "rm", "-rf", "/"]  # words, never a shell line
    assert argv('broken "quote') == []


def test_the_default_browser_comes_from_mimeapps(desk: Desk) -> None:
    assert default_browser_ids() == ["zeta.desktop"]


# -- matching a spoken name -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("spoken", "desktop_id"), [
    ("marker maker", "marker-maker.desktop"),
    ("the Marker Maker app", "marker-maker.desktop"),
    ("markr makr", "marker-maker.desktop"),
    ("vs code", "code.desktop"),
    ("visual studio code", "code.desktop"),
    ("code", "code.desktop"),
    ("terminal", "fancy-term.desktop"),
    ("the terminal", "fancy-term.desktop"),
    ("console", "fancy-term.desktop"),
    ("shell", "fancy-term.desktop"),
    ("browser", "zeta.desktop"),  # the default, though Alpha sorts first
    ("web browser", "zeta.desktop"),
    ("alpha", "alpha.desktop"),
    ("text editor", "code.desktop"),
])
def test_fuzzy_matching(desk: Desk, spoken: str, desktop_id: str) -> None:
    match = match_app(spoken, load_entries(), default_browser_ids())
    assert match.entry is not None, (spoken, match)
    assert match.entry.id == desktop_id


def test_no_match_names_the_closest_three(desk: Desk) -> None:
    match = match_app("firefox", load_entries(), default_browser_ids())
    assert match.entry is None
    assert len(match.closest) == 3
    assert match_app("secret tool", load_entries()).entry is None  # NoDisplay entries are not offered


# -- what a target is ---------------------------------------------------------------------------------------------
def test_classify_urls_files_folders_and_apps(desk: Desk) -> None:
    home = desk.home
    (home / "report.pdf").write_text("x")
    assert classify("github.com", home) == ("url", "https://github.com")
    assert classify("www.wikipedia.org/wiki/Python", home) == ("url", "https://www.wikipedia.org/wiki/Python")
    assert classify("https://example.org/a?b=1", home) == ("url", "https://example.org/a?b=1")
    assert classify("mailto:ann@example.com", home) == ("url", "mailto:ann@example.com")
    assert classify("localhost.dev:8080", home) == ("url", "https://localhost.dev:8080")
    assert classify("notes.md", home) == ("app", "notes.md")  # a file name, not a web site
    assert classify("log.txt", home) == ("app", "log.txt")
    assert classify("report.pdf", home) == ("path", str(home / "report.pdf"))
    assert classify("downloads folder", home) == ("missing", str(home / "Downloads"))
    (home / "Downloads").mkdir()
    assert classify("downloads folder", home) == ("path", str(home / "Downloads"))
    assert classify("my downloads", home) == ("path", str(home / "Downloads"))
    assert classify("home folder", home) == ("path", str(home))
    assert classify("/etc", home) == ("path", "/etc")
    assert classify("~/nope", home)[0] == "missing"
    assert classify("firefox", home) == ("app", "firefox")
    assert classify("music", home) == ("app", "music")  # could be a player; only "music folder" is the folder


def test_localised_user_dirs(desk: Desk) -> None:
    (desk.home / "Téléchargements").mkdir()
    (desk.config / "user-dirs.dirs").write_text('XDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n')
    assert classify("downloads folder", desk.home) == ("path", str(desk.home / "Téléchargements"))


@pytest.mark.parametrize(("system", "opener", "entries", "startfile"), [
    ("Linux", ["xdg-open"], True, False),
    ("FreeBSD", ["xdg-open"], True, False),
    ("Darwin", ["open"], False, False),
    ("Windows", [], False, True),
])
def test_open_plan_per_platform(system: str, opener: list[str], entries: bool, startfile: bool) -> None:
    plan = open_plan(system)
    assert plan["opener"] == opener
    assert plan["desktop_entries"] is entries
    assert plan["startfile"] is startfile
    assert open_plan("Darwin")["app"] == ["open", "-a"]


# -- launching, for real -------------------------------------------------------------------------------------------
def test_opening_an_app_runs_its_exec_line(services: Services, desk: Desk) -> None:
    result = _open(services, "marker maker")
    assert result.state is ResultState.OK, result.reply
    assert result.reply == "Opening Marker Maker."
    assert result.data["argv"] == ["touch", str(desk.root / "marker")]
    deadline = time.monotonic() + 5
    while not (desk.root / "marker").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (desk.root / "marker").exists()
    audit = [r for r in services.audit.records() if r["event"] == "exec.action"]
    assert audit[-1]["data"]["command"] == "launch_app"
    assert audit[-1]["data"]["args"] == {"app": "marker-maker.desktop"}
    assert services.confirmations.live() == []  # not destructive: nothing asked


def test_the_terminal_through_the_router(services: Services, desk: Desk) -> None:
    outcome = Pipeline(services).handle("launch the terminal")
    assert outcome.intent.skill == "apps.open"
    assert outcome.result.state is ResultState.OK, outcome.result.reply
    assert desk.recorded("term") == ["term"]


def test_vs_code_gets_no_field_codes(services: Services, desk: Desk) -> None:
    assert _open(services, "vs code").state is ResultState.OK
    assert desk.recorded("code") == ["code", "--new-window"]


def test_a_terminal_app_runs_inside_the_terminal_emulator(services: Services, desk: Desk) -> None:
    assert _open(services, "vimlike").state is ResultState.OK
    assert desk.recorded("term") == ["term", "-e", str(desk.rec), "vimlike"]


def test_launches_are_detached(services: Services, desk: Desk) -> None:
    result = _open(services, "napper")
    pid = result.data["pid"]
    try:
        assert psutil.Process(pid).name() == "sleep"
        assert psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # the reply came while `sleep 30` runs
        assert os.getsid(pid) == pid  # its own session: closing the agent does not take it down
    finally:
        psutil.Process(pid).kill()


def test_no_match_is_honest(services: Services, desk: Desk) -> None:
    result = _open(services, "firefox")
    assert result.state is ResultState.ERROR
    assert result.reply.startswith("I found no application called firefox. Closest: ")
    assert len(result.data["closest"]) == 3
    assert not any(r["event"] == "exec.action" for r in services.audit.records())


def test_a_missing_kind_of_app_names_the_category(services: Services, desk: Desk) -> None:
    result = _open(services, "the calculator")
    assert result.state is ResultState.ERROR
    assert result.reply.startswith("I found no calculator application installed (category Calculator). Closest ")
    assert result.data["category"] == "Calculator"


def test_the_launch_action_only_runs_installed_entries(services: Services, desk: Desk) -> None:
    result = services.executor.run("launch_app", {"app": "../../etc/evil.desktop"})
    assert result.state is ResultState.ERROR
    assert "no desktop entry" in result.message
    bad = services.executor.run("open_uri", {"uri": "--help"})
    assert bad.state is ResultState.ERROR
    assert "refused" in bad.message
    assert services.executor.run("open_uri", {"uri": "/no/such/file"}).state is ResultState.ERROR


def test_a_missing_folder_is_said_so(services: Services, desk: Desk) -> None:
    result = _open(services, "downloads folder")
    assert result.state is ResultState.ERROR
    assert result.reply == f"{desk.home / 'Downloads'} doesn't exist."


# -- the real xdg-open on a real X server ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xserver() -> Iterator[str]:
    with xvfb("320x240x24") as display:
        yield display


def test_urls_and_folders_go_to_xdg_open(services: Services, desk: Desk, xserver: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", xserver)
    (desk.home / "Downloads").mkdir()
    (desk.config / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/https=zeta.desktop\ninode/directory=alpha.desktop\n")
    result = _open(services, "github.com")
    assert result.state is ResultState.OK, result.reply
    assert result.reply == "Opening github.com."
    assert result.data["argv"] == ["xdg-open", "https://github.com"]
    assert desk.recorded("zeta") == ["zeta", "https://github.com"]
    assert _open(services, "the downloads folder").state is ResultState.OK
    assert desk.recorded("alpha") == ["alpha", str(desk.home / "Downloads")]


def test_xdg_open_failing_is_reported(services: Services, desk: Desk, xserver: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", xserver)
    monkeypatch.setenv("BROWSER", "false")  # no handler, and no real browser may open on this machine
    (desk.config / "mimeapps.list").write_text("")
    result = _open(services, "example.org")
    assert result.state is ResultState.ERROR
    assert result.reply == ("I couldn't open example.org: no application is set up to open it here "
                            "(xdg-open status 3).")
