"""Soak: minutes of mixed traffic against the real server; memory must stay flat, errors none.

Run: python bench/soak.py [--seconds 180] [--clients 8] [--database sqlite|postgresql]
Starts uvicorn (one process) on a fresh database, then `--clients` threads send, for
`--seconds`, a mix like a clinic's day in steady state: 15% new intakes (varied answers, both
languages, some with red flags), 60% queue work (the oldest open intake moves one step along
new -> called -> arrived -> with_doctor -> done, so the open queue stays about as long as it
starts), 15% reception queue reads, 10% doctor PDF fetches of one of the last 200 intakes.
Every 5 s it samples the RSS of the server process and of its PDF render workers.

Reported (printed, and written to bench/results/soak.json): requests and errors per kind
(an error is a transport failure or any status other than 201/200/304), median and p99 latency
per kind, and the server's RSS: median of the first minute, median of the last minute, their
ratio (flat: at most 1.10), and the maximum. Exit status 1 if there was any error or the ratio
is over 1.10.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, descendants, percentile, rss_mib, serve, workspace
from tests.patients import intake_body

FLAT = 1.10
PATH = ["called", "arrived", "with_doctor", "done"]


def patient(number: int) -> dict[str, object]:
    language = "ml" if number % 4 == 0 else "en"
    changes: dict[str, object] = {
        "full_name": f"Soak patient {number}",
        "concern_details": "ചോർച്ച ഉണ്ട് " * (number % 5),
        "birth_date": f"{1950 + number % 55}-0{1 + number % 9}-1{number % 10}",
    }
    if number % 9 == 0:
        changes["fever"] = True
    if number % 17 == 0:
        changes["erection_over_4h"] = True
    return intake_body(language, **changes)


class Traffic:
    def __init__(self, base_url: str, token: str, until: float) -> None:
        self.base_url = base_url
        self.headers = {"authorization": f"Bearer {token}"}
        self.until = until
        self.lock = threading.Lock()
        self.ids: list[str] = []
        kinds = ("submit", "move", "queue", "pdf")
        self.latency: dict[str, list[float]] = {kind: [] for kind in kinds}
        self.errors: dict[str, list[str]] = {kind: [] for kind in kinds}
        self.open: collections.deque[tuple[str, int]] = collections.deque()
        self.counter = 0

    def client_loop(self, seed: int) -> None:
        chooser = random.Random(seed)
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            while time.monotonic() < self.until:
                roll = chooser.random()
                if roll < 0.15 or not self.ids:
                    kind = "submit"
                elif roll < 0.75:
                    kind = "move"
                else:
                    kind = "queue" if roll < 0.9 else "pdf"
                self.one(client, chooser, kind)

    def one(self, client: httpx.Client, chooser: random.Random, kind: str) -> None:
        started = time.perf_counter()
        try:
            if kind == "submit":
                with self.lock:
                    self.counter += 1
                    number = self.counter
                response = client.post("/api/v1/intakes", json=patient(number))
            elif kind == "move":
                with self.lock:
                    if not self.open:
                        return
                    intake_id, step = self.open.popleft()
                response = client.post(
                    f"/api/v1/intakes/{intake_id}/status",
                    json={"status": PATH[step]},
                    headers=self.headers,
                )
                if response.status_code == 200 and step + 1 < len(PATH):
                    with self.lock:
                        self.open.append((intake_id, step + 1))
            elif kind == "queue":
                response = client.get("/api/v1/queue", headers=self.headers)
            else:
                with self.lock:
                    intake_id = chooser.choice(self.ids[-200:])
                response = client.get(
                    f"/api/v1/intakes/{intake_id}/summary.pdf", headers=self.headers
                )
        except httpx.HTTPError as error:
            with self.lock:
                self.errors[kind].append(type(error).__name__)
            return
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            if response.status_code not in {200, 201, 304}:
                self.errors[kind].append(str(response.status_code))
                return
            self.latency[kind].append(elapsed)
            if kind == "submit":
                self.ids.append(response.json()["id"])
                self.open.append((response.json()["id"], 0))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with workspace(args.database) as space:
        token = space.token("doctor", "soak")
        with serve(space) as server:
            started = time.monotonic()
            traffic = Traffic(server.base_url, token, started + args.seconds)
            threads = [
                threading.Thread(target=traffic.client_loop, args=(seed,), daemon=True)
                for seed in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            samples: list[tuple[float, float, float]] = []
            while any(thread.is_alive() for thread in threads):
                workers = sum(rss_mib(pid) for pid in descendants(server.pid))
                samples.append((time.monotonic() - started, rss_mib(server.pid), workers))
                time.sleep(5)
            for thread in threads:
                thread.join()
        log = server.log_path.read_text(errors="replace")
    first = [rss for at, rss, _ in samples if at <= 60]
    last = [rss for at, rss, _ in samples if at >= samples[-1][0] - 60]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": (
            f"python bench/soak.py --seconds {args.seconds} --clients {args.clients} "
            f"--database {args.database}"
        ),
        "seconds": args.seconds,
        "requests": {kind: len(values) for kind, values in traffic.latency.items()},
        "errors": {kind: len(values) for kind, values in traffic.errors.items()},
        "error_kinds": {kind: sorted(set(values)) for kind, values in traffic.errors.items()},
        "median_ms": {
            kind: round(statistics.median(v), 1) for kind, v in traffic.latency.items() if v
        },
        "p99_ms": {kind: round(percentile(v, 0.99), 1) for kind, v in traffic.latency.items() if v},
        "server_rss_mib": {
            "first_minute_median": round(statistics.median(first), 1),
            "last_minute_median": round(statistics.median(last), 1),
            "ratio": round(statistics.median(last) / statistics.median(first), 3),
            "max": round(max(rss for _, rss, _ in samples), 1),
        },
        "render_workers_rss_mib_max": round(max(workers for _, _, workers in samples), 1),
        "tracebacks_in_log": log.count("Traceback"),
        "samples": [[round(at), round(rss, 1), round(w, 1)] for at, rss, w in samples],
    }
    out = RESULTS / f"soak_{args.database}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({key: value for key, value in result.items() if key != "samples"}, indent=2))
    flat = result["server_rss_mib"]["ratio"] <= FLAT  # type: ignore[index]
    clean = not any(result["errors"].values()) and not result["tracebacks_in_log"]  # type: ignore[union-attr]
    return 0 if flat and clean else 1


if __name__ == "__main__":
    sys.exit(main())
