"""Local API benchmark: `/api/ask` latency on a tier-1 (template) command, and `/api/health` throughput.

    .venv/bin/python bench/api_bench.py [--asks 200] [--clients 16] [--seconds 10]

The API runs as a user would run it, `agent api --port 0` in its own process (a throw-away AGENT_HOME, default
settings), and this process is the client, over real loopback HTTP with keep-alive:

1. `/api/ask` "what is 6 times 7" (template tier, math.calc), one request at a time, after the router is warm:
   client-side latency p50/p90/p99, and the server's own route/skill times;
2. `/api/health` from N concurrent async clients for a fixed time: requests/s and latency percentiles, with the
   server's and the client's CPU use meanwhile; once with httpx clients, once with bare keep-alive sockets (on a
   small machine the httpx clients themselves are the bottleneck).

Prints one JSON summary, with the machine (cores, load average before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
TEXT = "what is 6 times 7"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _start(home: Path) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    env = {**os.environ, "AGENT_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "api", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("API serving on "):
        proc.kill()
        raise SystemExit(f"the API did not start: {line!r}")
    url = line.split()[3]
    token = (home / "data" / "api" / "token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 120
    while not httpx.get(url + "/api/ready", headers=auth, timeout=30).json()["ready"]:  # the router warms up
        if time.monotonic() > deadline:
            raise SystemExit("the router did not warm up in 120 s")
        time.sleep(0.2)
    return proc, url, auth


def bench_ask(url: str, auth: dict[str, str], n: int) -> dict[str, Any]:
    client_ms: list[float] = []
    route_ms: list[float] = []
    skill_ms: list[float] = []
    with httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        for _ in range(10):  # warm the connection and the code paths
            client.post("/api/ask", json={"text": TEXT})
        for _ in range(n):
            started = time.perf_counter()
            out = client.post("/api/ask", json={"text": TEXT}).json()
            client_ms.append((time.perf_counter() - started) * 1000)
            assert (out["tier"], out["state"]) == ("template", "ok"), out
            route_ms.append(out["timings_ms"]["route"])
            skill_ms.append(out["timings_ms"]["skill"])
        health_ms: list[float] = []
        for _ in range(n):  # the same client and connection on the cheapest endpoint: the HTTP share of it
            started = time.perf_counter()
            client.get("/api/health")
            health_ms.append((time.perf_counter() - started) * 1000)
    return {"requests": n, "text": TEXT, "tier": "template", "p50_ms": _pct(client_ms, 0.5),
            "p90_ms": _pct(client_ms, 0.9), "p99_ms": _pct(client_ms, 0.99),
            "mean_ms": round(statistics.mean(client_ms), 3), "server_route_p50_ms": _pct(route_ms, 0.5),
            "server_skill_p50_ms": _pct(skill_ms, 0.5), "health_same_client_p50_ms": _pct(health_ms, 0.5)}


async def _hammer(url: str, seconds: float, latencies: list[float]) -> int:
    done = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get("/api/health")
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code == 200:
                done += 1
    return done


async def _hammer_raw(url: str, seconds: float, latencies: list[float]) -> int:
    """The same loop on a bare keep-alive socket: a client that costs far less CPU than httpx."""
    parts = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parts.host, parts.port)
    request = f"GET /api/health HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n\r\n".encode()
    done = 0
    try:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            done += head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
        await writer.wait_closed()
    return done


async def _health(url: str, clients: int, seconds: float, raw: bool) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    started = time.perf_counter()
    hammer = _hammer_raw if raw else _hammer
    counts = await asyncio.gather(*(hammer(url, seconds, latencies) for _ in range(clients)))
    return sum(counts), latencies, time.perf_counter() - started


def bench_health(url: str, server: psutil.Process, clients: int, seconds: float, raw: bool) -> dict[str, Any]:
    asyncio.run(_health(url, clients, 1.0, raw))  # warm-up
    server.cpu_percent(None)
    me = psutil.Process()
    me.cpu_percent(None)
    ok, latencies, wall = asyncio.run(_health(url, clients, seconds, raw))
    return {"client": "raw keep-alive sockets" if raw else "httpx.AsyncClient", "clients": clients,
            "seconds": round(wall, 2), "requests": ok, "requests_per_s": round(ok / wall, 1),
            "p50_ms": _pct(latencies, 0.5), "p99_ms": _pct(latencies, 0.99),
            "server_cpu_percent": round(server.cpu_percent(None), 1),
            "client_cpu_percent": round(me.cpu_percent(None), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    ns = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="api-bench-") as home:
        started = time.perf_counter()
        proc, url, auth = _start(Path(home))
        ready_s = time.perf_counter() - started
        try:
            server = psutil.Process(proc.pid)
            ask = bench_ask(url, auth, ns.asks)
            health = [bench_health(url, server, ns.clients, ns.seconds, raw) for raw in (False, True)]
            rss_mb = round(server.memory_info().rss / 1024**2, 1)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    print(json.dumps({
        "machine": {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
                    "load_after": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0]},
        "server": {"start_to_ready_s": round(ready_s, 2), "rss_mb": rss_mb},
        "ask": ask, "health": health,
    }, indent=2))


if __name__ == "__main__":
    main()
