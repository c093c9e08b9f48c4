"""The security scan: read-only checks of this machine, each finding with an id, a severity, evidence and a fix.

Checks: listening ports (new ones against a baseline, and ports open on all interfaces), firewall state (ufw,
nftables, iptables through allow-listed read-only commands), SSH server settings, world-writable folders on PATH
and in autostart locations, pending security updates (apt), processes running from deleted or temporary
binaries, and new or changed autostart/persistence entries against a baseline. The first scan records the
baselines. Commands go through the executor; files are only read. Acknowledged findings stay listed but stop
repeating (`AutomationStore.acknowledge`).
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import psutil

from agent.automation.store import AutomationStore

if TYPE_CHECKING:
    from agent.safety.executor import Executor

__all__ = ["Finding", "ScanReport", "run_scan"]

_LOGGER = logging.getLogger(__name__)

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_RISKY_PORTS = {21: "ftp", 23: "telnet", 111: "rpcbind", 445: "smb", 2375: "docker", 3306: "mysql",
                3389: "rdp", 5432: "postgres", 5900: "vnc", 6379: "redis", 9200: "elasticsearch",
                11211: "memcached", 27017: "mongodb"}
_TEMP_DIRS = ("/tmp/", "/var/tmp/", "/dev/shm/")


@dataclass(frozen=True)
class Finding:
    id: str
    check: str
    severity: Severity
    title: str
    evidence: str
    fix: str


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    checks: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {status, detail}
    new: list[str] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    baselines_created: list[str] = field(default_factory=list)
    duration_ms: float = 0.0

    def attention(self) -> list[Finding]:
        """Unacknowledged findings worth telling (low and up), worst first."""
        return sorted((f for f in self.findings if f.id not in self.acknowledged and f.severity != "info"),
                      key=lambda f: -SEVERITY_ORDER[f.severity])

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [{**asdict(f), "acknowledged": f.id in self.acknowledged, "new": f.id in self.new}
                         for f in sorted(self.findings, key=lambda f: -SEVERITY_ORDER[f.severity])],
            "checks": self.checks, "baselines_created": self.baselines_created,
            "counts": {sev: sum(1 for f in self.attention() if f.severity == sev) for sev in SEVERITY_ORDER},
            "duration_ms": round(self.duration_ms, 1),
        }


class _Skip(Exception):
    """A check that cannot run here (nothing to check, or not allowed)."""


@dataclass
class ScanContext:
    executor: Executor
    store: AutomationStore
    home: Path = field(default_factory=Path.home)
    path_env: str = field(default_factory=lambda: os.environ.get("PATH", ""))
    sshd_config: Path = Path("/etc/ssh/sshd_config")
    proc: Path = Path("/proc")
    baselines_created: list[str] = field(default_factory=list)
    exposed_ports: int = 0


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# -- ports ---------------------------------------------------------------------------------------------------
def _listening() -> list[tuple[str, str, int, str, int | None]]:
    """(proto, ip, port, process name, pid) for TCP listeners and UDP servers."""
    out = []
    names: dict[int, str] = {}
    for c in psutil.net_connections(kind="inet"):
        if not c.laddr:
            continue
        proto = "tcp" if c.type == 1 else "udp"
        if proto == "tcp" and c.status != psutil.CONN_LISTEN:
            continue
        if proto == "udp" and (c.raddr or c.laddr.port >= 32768):
            continue
        name = ""
        if c.pid:
            if c.pid not in names:
                try:
                    names[c.pid] = psutil.Process(c.pid).name()
                except psutil.Error:
                    names[c.pid] = ""
            name = names[c.pid]
        out.append((proto, c.laddr.ip, c.laddr.port, name, c.pid))
    return sorted(set(out), key=lambda x: (x[0], x[2], x[1]))


def _is_all(ip: str) -> bool:
    return ip in ("0.0.0.0", "::", "*", "")


def _is_loopback(ip: str) -> bool:
    return ip.startswith(("127.", "::ffff:127.")) or ip == "::1"


def check_ports(ctx: ScanContext) -> list[Finding]:
    found: list[Finding] = []
    listeners = _listening()
    entries: dict[str, str] = {}
    for proto, ip, port, name, pid in listeners:
        entries[f"{proto}/{port}/{name or '?'}"] = f"{ip}:{port}"
        if not _is_all(ip):
            continue
        ctx.exposed_ports += 1
        service = _RISKY_PORTS.get(port)
        what = f"{name or service or 'unknown process'}"
        severity: Severity = "high" if service else ("low" if port == 22 else "medium")
        found.append(Finding(
            f"port.exposed.{proto}.{port}", "ports", severity,
            f"Port {port}/{proto} ({what}) is open on all network interfaces",
            f"{proto} {ip}:{port} process {name or '?'} pid {pid or '?'}",
            f"If only this machine needs it, make {name or service or 'the service'} listen on 127.0.0.1 only; "
            "otherwise allow only your network in the firewall "
            f"(e.g. sudo ufw allow from 192.168.1.0/24 to any port {port})."))
    baseline = ctx.store.baseline("ports")
    if baseline is None:
        ctx.store.set_baseline("ports", entries)
        ctx.baselines_created.append("ports")
        return found
    for key, where in entries.items():
        if key not in baseline:
            proto, number, name = key.split("/", 2)
            local = _is_loopback(where.rsplit(":", 1)[0])
            found.append(Finding(
                f"port.new.{proto}.{number}.{name}", "ports", "low" if local else "medium",
                f"New listening port {number}/{proto} ({name}) since the baseline",
                f"{proto} {where} process {name}",
                "If you started it, acknowledge this finding (agent scan --ack ID); if not, find it with "
                f"'ss -tulpn | grep :{number}' and stop it."))
    return found


# -- firewall ------------------------------------------------------------------------------------------------
def _run(ctx: ScanContext, command: str, args: dict[str, Any] | None = None) -> tuple[bool, str]:
    result = ctx.executor.run(command, args or {})
    return result.ok, (result.stdout + "\n" + result.stderr).strip()


def check_firewall(ctx: ScanContext) -> list[Finding]:
    tools = {"ufw": "firewall_ufw_status", "nft": "firewall_nft_ruleset", "iptables": "firewall_iptables_rules"}
    present = [t for t in tools if shutil.which(t)]
    verdicts: dict[str, bool | None] = {}
    for tool in present:
        ok, out = _run(ctx, tools[tool])
        if not ok and re.search(r"root|permission|not permitted|denied", out, re.I):
            verdicts[tool] = None
        elif tool == "ufw":
            verdicts[tool] = "Status: active" in out
        elif tool == "nft":
            verdicts[tool] = ok and "hook input" in out
        else:
            rules = [ln for ln in out.splitlines() if ln.startswith("-A INPUT") or ln == "-P INPUT DROP"]
            verdicts[tool] = ok and bool(rules)
    if any(verdicts.values()):
        return []
    for unit in ("ufw", "firewalld"):
        if shutil.which("systemctl") and _run(ctx, "service_active", {"unit": unit})[0]:
            return []
    exposed = ctx.exposed_ports > 0
    severity: Severity = "high" if exposed else "medium"
    if not present:
        return [Finding("firewall.none", "firewall", severity, "No firewall is installed",
                        "none of ufw, nft or iptables is on PATH" + (
                            f"; {ctx.exposed_ports} port(s) open on all interfaces" if exposed else ""),
                        "Install and enable one: sudo apt install ufw && sudo ufw enable")]
    if all(v is None for v in verdicts.values()):
        raise _Skip(f"reading the firewall state needs root ({', '.join(present)})")
    return [Finding("firewall.inactive", "firewall", severity, "The firewall is not active",
                    "; ".join(f"{t}: {'no input rules' if v is False else 'unknown'}" for t, v in verdicts.items()),
                    "Turn it on: sudo ufw enable (after allowing what you need, e.g. sudo ufw allow ssh)")]


# -- ssh -----------------------------------------------------------------------------------------------------
def _sshd_settings(path: Path, out: dict[str, tuple[str, str]], depth: int = 0) -> None:
    """First value wins, as in sshd; Include is expanded in place; Match blocks are not evaluated."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        key, value = key.lower(), value.strip().strip('"')
        if key == "match":
            return
        if key == "include" and depth < 5:
            for pattern in value.split():
                full = pattern if pattern.startswith("/") else str(path.parent / pattern)
                for inc in sorted(glob.glob(full)):
                    _sshd_settings(Path(inc), out, depth + 1)
            continue
        out.setdefault(key, (value.lower(), f"{path}:{n}"))


def check_ssh(ctx: ScanContext) -> list[Finding]:
    if not ctx.sshd_config.exists():
        raise _Skip(f"no SSH server ({ctx.sshd_config} not found)")
    settings: dict[str, tuple[str, str]] = {}
    _sshd_settings(ctx.sshd_config, settings)
    found = []
    root, where = settings.get("permitrootlogin", ("prohibit-password", "default"))
    if root == "yes":
        found.append(Finding("ssh.root_login", "ssh", "high", "SSH allows root to log in with a password",
                             f"PermitRootLogin yes ({where})",
                             f"Set 'PermitRootLogin no' in {ctx.sshd_config}, then: sudo systemctl reload ssh"))
    pw, where = settings.get("passwordauthentication", ("yes", "default"))
    if pw == "yes":
        found.append(Finding("ssh.password_auth", "ssh", "medium", "SSH accepts password logins",
                             f"PasswordAuthentication yes ({where})",
                             "Use SSH keys and set 'PasswordAuthentication no', then: sudo systemctl reload ssh"))
    empty, where = settings.get("permitemptypasswords", ("no", "default"))
    if empty == "yes":
        found.append(Finding("ssh.empty_passwords", "ssh", "critical", "SSH allows empty passwords",
                             f"PermitEmptyPasswords yes ({where})", "Set 'PermitEmptyPasswords no' and reload ssh"))
    return found


# -- world-writable folders ----------------------------------------------------------------------------------
def _autostart_dirs(home: Path) -> list[Path]:
    return [home / ".config/autostart", home / ".config/systemd/user", Path("/etc/xdg/autostart"),
            Path("/etc/systemd/system"), Path("/etc/cron.d"), Path("/etc/profile.d")]


def check_writable(ctx: ScanContext) -> list[Finding]:
    found = []
    for entry in ctx.path_env.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            found.append(Finding(f"path.relative.{_h(entry)}", "writable", "medium",
                                 f"PATH contains a relative entry ({entry or 'empty'})",
                                 f"PATH={ctx.path_env}",
                                 "Remove it from PATH in your shell profile: commands could run from any folder."))
    places = [("PATH", Path(p)) for p in ctx.path_env.split(os.pathsep) if p and os.path.isabs(p)]
    for d in _autostart_dirs(ctx.home):
        places.append(("autostart", d))
        if d.is_dir():
            places.extend(("autostart", f) for f in sorted(d.iterdir())[:500])
    seen = set()
    for where, p in places:
        try:
            st = p.lstat()
        except OSError:
            continue
        if p in seen or stat.S_ISLNK(st.st_mode) or not st.st_mode & stat.S_IWOTH:
            continue
        seen.add(p)
        found.append(Finding(f"writable.{where.lower()}.{_h(str(p))}", "writable", "high",
                             f"{p} ({where}) can be changed by any user",
                             f"mode {stat.S_IMODE(st.st_mode):04o} owner uid {st.st_uid}",
                             f"Remove write access for others: sudo chmod o-w '{p}'"))
    return found


# -- pending updates -----------------------------------------------------------------------------------------
def check_updates(ctx: ScanContext) -> list[Finding]:
    if shutil.which("apt") is None:
        raise _Skip("apt is not installed")
    ok, out = _run(ctx, "apt_upgradable")
    if not ok:
        raise _Skip(f"apt list failed: {out[:200]}")
    upgradable = [ln for ln in out.splitlines() if "[upgradable from:" in ln]
    security = [ln.split("/", 1)[0] for ln in upgradable if "-security" in ln.split(" ", 1)[0]]
    if not security:
        return []
    return [Finding("updates.security", "updates", "high" if len(security) >= 10 else "medium",
                    f"{len(security)} security update{'s' if len(security) != 1 else ''} waiting to be installed",
                    ", ".join(security[:15]) + (" ..." if len(security) > 15 else "")
                    + f" ({len(upgradable)} upgradable in all, from the local package index)",
                    "Install them: sudo apt update && sudo apt upgrade")]


# -- processes from deleted or temporary binaries ----------------------------------------------------------
def check_processes(ctx: ScanContext) -> list[Finding]:
    found: dict[str, Finding] = {}
    unreadable = 0
    for entry in ctx.proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
        except PermissionError:
            unreadable += 1
            continue
        except OSError:
            continue
        deleted = exe.endswith(" (deleted)")
        path = exe.removesuffix(" (deleted)")
        temp = path.startswith(_TEMP_DIRS)
        memfd = path.startswith("/memfd:")
        if not (deleted or temp or memfd):
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            name = "?"
        if temp or memfd:
            fid, sev, title = (f"process.temp_binary.{_h(path)}", "high",
                               f"{name} runs from {'memory (no file)' if memfd else 'a temporary folder'}")
            fix = f"Check what it is (ps -fp {entry.name}); if you don't know it, stop it (kill {entry.name})."
        else:
            system = path.startswith(("/usr/", "/opt/", "/lib", "/bin/", "/sbin/", "/snap/"))
            fid, sev, title = (f"process.deleted_binary.{_h(path)}", "low" if system else "high",
                               f"{name} runs from a binary that was deleted")
            fix = ("It was probably updated while running: restart it." if system else
                   f"Its program file is gone: check it (ps -fp {entry.name}) and stop it if unknown.")
        found.setdefault(fid, Finding(fid, "processes", sev, title, f"pid {entry.name} {name}: {exe}", fix))  # type: ignore[arg-type]
    if unreadable and not found:
        _LOGGER.info("%d processes of other users could not be inspected (not root)", unreadable)
    return list(found.values())


# -- persistence -----------------------------------------------------------------------------------------------
def _persistence_entries(ctx: ScanContext) -> dict[str, str]:
    entries: dict[str, str] = {}
    patterns = [ctx.home / ".config/autostart/*.desktop", Path("/etc/xdg/autostart/*.desktop"),
                ctx.home / ".config/systemd/user/*.service", ctx.home / ".config/systemd/user/*.timer",
                ctx.home / ".config/systemd/user/*.wants/*", Path("/etc/systemd/system/*.service"),
                Path("/etc/systemd/system/*.timer"), Path("/etc/systemd/system/*.wants/*"),
                Path("/etc/cron.d/*"), Path("/etc/crontab")]
    for pattern in patterns:
        for name in sorted(glob.glob(str(pattern))):
            p = Path(name)
            try:
                value = "-> " + os.readlink(p) if p.is_symlink() else _h(p.read_text(errors="replace"))
            except OSError:
                continue
            entries[str(p)] = value
    if shutil.which("crontab"):
        ok, out = _run(ctx, "crontab_list")
        if ok:
            for line in out.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    entries[f"crontab:{_h(line.strip())}"] = line.strip()[:300]
    return entries


def check_persistence(ctx: ScanContext) -> list[Finding]:
    entries = _persistence_entries(ctx)
    baseline = ctx.store.baseline("persistence")
    if baseline is None:
        ctx.store.set_baseline("persistence", entries)
        ctx.baselines_created.append("persistence")
        return []
    found = []
    for key, value in entries.items():
        if key in baseline and baseline[key] == value:
            continue
        changed = key in baseline
        shown = value if key.startswith("crontab:") else key
        found.append(Finding(f"persistence.{'changed' if changed else 'new'}.{_h(key)}", "persistence", "medium",
                             f"{'Changed' if changed else 'New'} autostart entry: {shown}",
                             f"{key}: {value}",
                             "If you added it, acknowledge this finding; if not, look at it and remove it."))
    return found


CHECKS: dict[str, Callable[[ScanContext], list[Finding]]] = {
    "ports": check_ports, "firewall": check_firewall, "ssh": check_ssh, "writable": check_writable,
    "updates": check_updates, "processes": check_processes, "persistence": check_persistence,
}


def run_scan(executor: Executor, store: AutomationStore, *, only: list[str] | None = None,
             **overrides: Any) -> ScanReport:
    """Run the checks (all, or `only`), store the findings and return the report."""
    started = time.perf_counter()
    ctx = ScanContext(executor, store, **overrides)
    report = ScanReport()
    ran = []
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        try:
            findings = check(ctx)
        except _Skip as exc:
            report.checks[name] = {"status": "skipped", "detail": str(exc)}
            continue
        except Exception as exc:
            _LOGGER.exception("security check %s failed", name)
            report.checks[name] = {"status": "error", "detail": f"{exc.__class__.__name__}: {exc}"}
            continue
        ran.append(name)
        report.findings.extend(findings)
        report.checks[name] = {"status": "findings" if findings else "ok", "detail": f"{len(findings)} finding(s)"}
    new = store.record_findings(ran, [asdict(f) for f in report.findings])
    report.new = sorted(new)
    report.acknowledged = store.acknowledged()
    report.baselines_created = ctx.baselines_created
    report.duration_ms = (time.perf_counter() - started) * 1000
    store.put("security.last_scan", {"ts": time.time(), "counts": report.to_json()["counts"]})
    return report
