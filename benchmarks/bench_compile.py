"""What ``torch.compile`` (``compile=True``: :meth:`InpaintModel.compile_for`) gains, per network at its working size.

    python benchmarks/bench_compile.py [--models deepfill.compact mdrn.compact ...] [--repeats 5] [--threads 2]
                                       [--device cpu]

Each model runs in its own worker process, which builds two copies of it from the preset (random weights: same
cost), compiles one with ``compile_for(working_size)`` (the compile time is that call's) and times ``predict``
on the two in turn (eager, compiled, eager, ...) after a warm-up, so a changing load slows both alike. It also
prints the largest difference between their outputs. Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings

import torch

DEFAULT_MODELS = ["ctsdg.compact", "deepfill.compact", "mdrn.compact", "progressive.compact", "migan.places2-256"]


def measure(name: str, repeats: int, device: str) -> dict:
    import inpaint_core as ic

    torch.manual_seed(0)
    eager = ic.build_model(name).to(device).eval()
    compiled = ic.build_model(name).to(device).eval()
    compiled.load_state_dict(eager.state_dict())
    size = eager.working_size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compile_seconds = compiled.compile_for(size)
    if compile_seconds is None:
        return {"model": name, "size": size, "failed": str(caught[-1].message) if caught else "no reason given"}
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, size, size, generator=generator).to(device)
    hole = torch.zeros(1, 1, size, size, device=device)
    hole[..., size // 4 : size * 3 // 4, size // 4 : size // 2] = 1
    times: dict[str, list[float]] = {"eager": [], "compiled": []}
    outputs = {}
    with torch.inference_mode():
        for model in (eager, compiled):  # warm-up
            model.predict(image, hole)
        for _ in range(repeats):
            for label, model in (("eager", eager), ("compiled", compiled)):
                start = time.perf_counter()
                outputs[label] = model.predict(image, hole)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                times[label].append(time.perf_counter() - start)
    return {
        "model": name,
        "size": size,
        "compile_s": compile_seconds,
        "eager_s": statistics.median(times["eager"]),
        "compiled_s": statistics.median(times["compiled"]),
        "max_abs_diff": float((outputs["eager"] - outputs["compiled"]).abs().max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(measure(args.worker, args.repeats, args.device)))
        return
    print(f"torch.compile (inductor, dynamic=False) against eager, predict at the working size, batch 1, median of "
          f"{args.repeats} alternating, {args.threads} threads, {args.device}, torch {torch.__version__}\n")
    print("| model | size | eager (s) | compiled (s) | gain | compile time (s) | max abs diff |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        command = [sys.executable, __file__, "--worker", name, "--repeats", str(args.repeats),
                   "--threads", str(args.threads), "--device", args.device]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            print(f"| {name} | | worker failed: {done.stderr.strip().splitlines()[-1][:150]} | | | | |", flush=True)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if "failed" in row:
            print(f"| {name} | {row['size']} | {row['failed'][:150]} | | | | |", flush=True)
            continue
        print(f"| {name} | {row['size']} | {row['eager_s']:.3f} | {row['compiled_s']:.3f} | "
              f"{row['eager_s'] / row['compiled_s']:.2f}x | {row['compile_s']:.1f} | {row['max_abs_diff']:.1e} |",
              flush=True)


if __name__ == "__main__":
    main()
