"""Plot the submission benchmark: latency and throughput against concurrency.

Run: python bench/plot.py (after bench/submissions.py). Reads bench/results/submissions.json,
writes bench/results/latency_vs_concurrency.png: p50 (solid) and p99 (dashed) latency per
database and target, log scales, and intakes per second beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS

SOURCE = RESULTS / "submissions.json"
PLOT = RESULTS / "latency_vs_concurrency.png"
COLOURS = {
    ("sqlite", "ours"): "tab:blue",
    ("sqlite", "baseline"): "tab:cyan",
    ("postgresql", "ours"): "tab:red",
    ("postgresql", "baseline"): "tab:orange",
}


def plot(results: dict[str, object], path: Path = PLOT) -> Path:
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(13, 5.5))
    databases = results["databases"]
    assert isinstance(databases, dict)
    for database, result in databases.items():
        for target in ("ours", "baseline"):
            runs = result[target]["connections"]
            counts = sorted(runs, key=int)
            x = [int(count) for count in counts]
            colour = COLOURS.get((database, target))
            label = f"{database} {target}"
            latency.plot(x, [runs[c]["p50_ms"] for c in counts], "o-", color=colour,
                         label=f"{label} p50")  # fmt: skip
            latency.plot(x, [runs[c]["p99_ms"] for c in counts], "s--", color=colour,
                         label=f"{label} p99")  # fmt: skip
            throughput.plot(x, [runs[c]["requests_per_s"] for c in counts], "o-", color=colour,
                            label=label)  # fmt: skip
    for axes in (latency, throughput):
        axes.set_xscale("log", base=2)
        axes.set_xlabel("connections (wrk)")
        axes.grid(visible=True, which="both", alpha=0.3)
        ticks = sorted({int(c) for r in databases.values() for c in r["ours"]["connections"]})
        axes.set_xticks(ticks, [str(tick) for tick in ticks])
    latency.set_yscale("log")
    latency.set_ylabel("latency, ms (log)")
    latency.set_title("POST /api/v1/intakes latency: p50 solid, p99 dashed")
    latency.legend(fontsize="small")
    throughput.set_ylabel("intakes per second")
    throughput.set_ylim(bottom=0)
    throughput.set_title("throughput")
    throughput.legend(fontsize="small")
    machine = results.get("machine", {})
    assert isinstance(machine, dict)
    figure.suptitle(
        f"Submission load, {str(results.get('date', ''))[:10]}, "
        f"{machine.get('nproc', '?')} cores ({machine.get('cpu', '?')}), "
        "server and wrk on one machine"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> int:
    if not SOURCE.exists():
        print(f"no {SOURCE.relative_to(RESULTS.parent.parent)}: run bench/submissions.py first")
        return 1
    print(plot(json.loads(SOURCE.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
