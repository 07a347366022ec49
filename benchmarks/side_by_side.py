"""Timing and peak memory of two implementations of one network in the same run (for the parity scripts).

``runs`` maps ``"official"`` and ``"ours"`` to a callable that runs one prediction. Times alternate between the two,
so a load that changes on a shared machine slows both alike; each one's memory is measured in a subprocess of its own
that keeps only that implementation, resets the kernel's peak-RSS counter (``/proc/self/clear_refs``) after building
and reports the peak resident memory of one prediction (weights, inputs and activations; not the build).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

Runs = dict[str, Callable[[], object]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bench", action="store_true", help="also time both at 512 and measure peak memory")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-of", choices=("ours", "official"), help=argparse.SUPPRESS)


def parity_arguments(description: str, runs_at_512: Callable[[argparse.Namespace], Runs]) -> argparse.Namespace | None:
    """The command line of a parity script (the official checkout, seed, tolerance and the timing flags), with the
    threads set; ``None`` when this process was only a memory worker (``--memory-of``), which has then run."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    add_arguments(parser)
    args = parser.parse_args()
    if args.memory_of:
        memory_worker(runs_at_512(args), args.memory_of)
        return None
    torch.set_num_threads(args.threads)
    return args


def _peak_rss_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # kB -> GiB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def memory_worker(runs: Runs, which: str) -> None:
    """Keep ``runs[which]`` only, reset the peak-RSS counter, run it once and print the peak in GiB."""
    run = runs.pop(which)
    runs.clear()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    with torch.inference_mode():
        run()
    print(_peak_rss_gib())


def bench(runs: Runs, args: argparse.Namespace, script: str) -> dict[str, float]:
    """Median wall and CPU time of each run (alternating), and each one's peak RSS from a subprocess: ``script``
    run again with the same checkout and seed as a ``--memory-of`` worker."""
    script_args = ["--official-dir", str(args.official_dir), "--seed", str(args.seed)]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    with torch.inference_mode():
        for run in runs.values():
            run()  # warm-up
        for _ in range(args.repeats):
            for name, run in runs.items():
                wall, cpu = time.perf_counter(), time.process_time()
                run()
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    result = {}
    for name, values in times.items():
        result[f"{name}_wall"] = statistics.median(v[0] for v in values)
        result[f"{name}_cpu"] = statistics.median(v[1] for v in values)
        command = [sys.executable, script, *script_args, "--memory-of", name, "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result[f"{name}_rss"] = float(done.stdout.strip().splitlines()[-1])
    return result


def print_bench(result: dict[str, float], args: argparse.Namespace) -> None:
    print(f"\n512x512, batch 1, {args.threads} threads, median of {args.repeats} (alternating):\n")
    print("| implementation | wall (s) | CPU time (s) | peak RSS of one prediction (GiB) |")
    print("|---|---|---|---|")
    for name in ("official", "ours"):
        print(f"| {name} | {result[name + '_wall']:.3f} | {result[name + '_cpu']:.3f} | {result[name + '_rss']:.2f} |")
    ratios = [result[f"official_{k}"] / result[f"ours_{k}"] for k in ("wall", "cpu", "rss")]
    print("| ratio official / ours | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
