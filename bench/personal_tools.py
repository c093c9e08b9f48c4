"""Measure the personal tools on real parts. Prints one JSON summary.

    .venv/bin/python bench/personal_tools.py

- generate_ms: `generate_password(24)` (secrets + rejection sampling);
- clipboard_copy_ms: `clipboard.copy_secret` through the executor on a real Xvfb display with xclip
  (copy, read back, start the clear helper);
- vault_*_ms: save and get with keyrings.cryptfile (CryptFileKeyring), default Argon2 cost, so this is
  mostly the keyring's key derivation; and the same with a cheap KDF to show the vault's own cost;
- mpris_ms: `music.mpris` pause/next through the executor against tests/mpris_player.py on a private bus;
- recommend_ms: `tools.recommend` ranking, keywords only and keywords + MiniLM embedder (after load).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("AGENT_HOME", tempfile.mkdtemp(prefix="agent-bench-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keyrings.cryptfile.cryptfile import CryptFileKeyring  # noqa: E402

from agent.services import build_services  # noqa: E402
from agent.skills.tools_advice import load_knowledge, rank  # noqa: E402
from agent.vault import Vault, generate_password  # noqa: E402


def _time(fn: Callable[[], Any], n: int) -> dict[str, float]:
    values = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        values.append((time.perf_counter() - t) * 1000)
    values.sort()
    return {"median": round(statistics.median(values), 2), "max": round(values[-1], 2), "n": n}


def _vault(tmp: Path, fast: bool, n: int) -> dict[str, Any]:
    kr = CryptFileKeyring()
    kr.file_path = str(tmp / f"keyring-{fast}.cfg")
    if fast:
        kr.time_cost, kr.memory_cost, kr.parallelism = 1, 8 * 1024, 1
    kr.keyring_key = "bench passphrase"
    vault = Vault(tmp / f"vault-{fast}.enc", backend=kr)
    vault.save("warm-up", "x")  # makes the key
    return {"save_ms": _time(lambda: vault.save("github", generate_password(24).secret), n),
            "get_ms": _time(lambda: vault.get("github"), n)}


def _xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        return proc, ":" + f.readline().strip()


def _mpris(services: Any) -> dict[str, Any]:
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
    player = subprocess.Popen([sys.executable, str(ROOT / "tests" / "mpris_player.py"), "bench", "--status",
                               "Playing"], stdout=subprocess.PIPE, text=True)
    assert player.stdout is not None
    player.stdout.readline()
    try:
        return {"pause_ms": _time(lambda: services.executor.run("music.mpris", {"action": "pause"}), 20),
                "next_ms": _time(lambda: services.executor.run("music.mpris", {"action": "next"}), 20)}
    finally:
        for p in (player, bus):
            p.terminate()
            p.wait()
            if p.stdout:
                p.stdout.close()


def main() -> None:
    services = build_services()
    out: dict[str, Any] = {"generate_ms": _time(lambda: generate_password(24), 200)}
    xvfb, display = _xvfb()
    os.environ["DISPLAY"] = display
    try:
        out["clipboard_copy_ms"] = _time(lambda: services.executor.run(
            "clipboard.copy_secret", {"secret": generate_password(24).secret, "clear_after_s": 1}), 10)
    finally:
        xvfb.terminate()
        xvfb.wait()
    with tempfile.TemporaryDirectory() as tmp:
        out["vault_default_kdf"] = _vault(Path(tmp), fast=False, n=3)
        out["vault_cheap_kdf"] = _vault(Path(tmp), fast=True, n=20)
    out["mpris"] = _mpris(services)
    knowledge = load_knowledge()
    queries = ["nvidia monitoring tools", "monitor my network", "check if my ssd is dying", "record my screen"]
    out["recommend_keywords_ms"] = _time(lambda: [rank(q, knowledge) for q in queries], 20)
    embedder = services.embedder()
    vectors = embedder.embed([n.text for n in knowledge.needs])
    out["recommend_embedder_ms_per_query"] = _time(lambda: rank(queries[2], knowledge, vectors,
                                                                 embedder.embed([queries[2]])[0]), 20)
    out["needs"] = len(knowledge.needs)
    out["tools"] = sum(len(n.tools) for n in knowledge.needs)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
