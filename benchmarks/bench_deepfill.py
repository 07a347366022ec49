"""Inference time and peak memory of DeepFillv2 and the progressive family (batch 1; median of N after a warm-up).

Each case runs in its own subprocess so that its peak memory is its own: on CPU the peak resident set size of the
process (``ru_maxrss``, which includes Python, torch and the model), on CUDA ``torch.cuda.max_memory_allocated``;
"of which inference" is the growth of that peak during the timed runs (imports and weights excluded). With
``--official-dir`` (a checkout of nipponjo/deepfillv2-pytorch) the port's ``networks_tf.Generator`` runs as the
baseline in the same run and the table gives our speed-up over it. Prints a Markdown table; asserts nothing.

    python benchmarks/bench_deepfill.py [--device cuda] [--official-dir /path/to/deepfillv2-pytorch]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

CASES = {
    # key: (label, preset or "port", config overrides)
    "deepfill": ("deepfill.places2 (fuse on, default)", "deepfill.places2", {}),
    "deepfill-nofuse": ("deepfill.places2 (fuse off, as the port)", "deepfill.places2", {"attention_fuse": False}),
    "port": ("port networks_tf, fuse off (baseline)", "port", {}),
    "progressive3": ("progressive.places2-256 (3 stages)", "progressive.places2-256", {}),
    "progressive5": ("progressive.5stage (5 stages)", "progressive.5stage", {}),
}


def _inputs(size: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    image = torch.nn.functional.interpolate(torch.rand(1, 3, size // 16, size // 16, generator=gen), size=(size, size),
                                            mode="bicubic", align_corners=False).clamp(0, 1)
    hole = torch.zeros(1, 1, size, size)
    hole[..., size // 4 : size * 3 // 4, size // 4 : size * 3 // 4] = 1  # 25 % hole
    return image.to(device), hole.to(device)


def _build(preset: str, overrides: dict, official_dir: str | None):
    if preset != "port":
        import inpaint_core as ic

        model = ic.build_model(preset, **overrides).eval()
        return model, model.predict
    sys.path.insert(0, official_dir)
    from model.networks_tf import Generator

    port = Generator(cnum_in=5, cnum=48).eval()

    def predict(image, hole):
        x = image * 2 - 1
        ones = torch.ones_like(hole)
        return (port(torch.cat([x * (1 - hole), ones, ones * hole], dim=1), hole)[1] + 1) / 2

    return port, predict


def run_case(preset: str, overrides: dict, size: int, device: str, repeats: int, threads: int,
             official_dir: str | None) -> dict:
    torch.set_num_threads(threads)
    module, predict = _build(preset, overrides, official_dir)
    module.to(device)
    image, hole = _inputs(size, device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    before = _peak_gb(device)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            predict(image, hole)
            if device == "cuda":
                torch.cuda.synchronize()
            if i:  # the first run is a warm-up
                times.append(time.perf_counter() - start)
    peak = _peak_gb(device)
    return {"seconds": statistics.median(times), "peak_gb": peak, "inference_gb": peak - before}


def _peak_gb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--official-dir", type=Path, default=None)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated keys of {sorted(CASES)}")
    parser.add_argument("--_case", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_size", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    official = str(args.official_dir.resolve()) if args.official_dir else None
    if args._case is not None:
        _, preset, overrides = CASES[args._case]
        print(json.dumps(run_case(preset, overrides, args._size, args.device, args.repeats, args.threads, official)))
        return
    names = [n for n in args.cases.split(",") if n != "port" or official]
    print(f"device {args.device}, {args.threads} threads, batch 1, 25 % hole, median of {args.repeats}\n")
    print("| network | size | time (s) | peak memory (GB) | of which inference (GB) | speed-up vs port |")
    print("|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        results = {}
        for name in names:
            command = [sys.executable, __file__, "--_case", name, "--_size", str(size), "--device", args.device,
                       "--repeats", str(args.repeats), "--threads", str(args.threads)]
            if official:
                command += ["--official-dir", official]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        baseline = results.get("port")
        for name, result in results.items():
            ratio = f"{baseline['seconds'] / result['seconds']:.2f}x" if baseline else "-"
            memory = f"{result['peak_gb']:.2f} | {result['inference_gb']:.2f}"
            print(f"| {CASES[name][0]} | {size} | {result['seconds']:.3f} | {memory} | {ratio} |")


if __name__ == "__main__":
    main()
