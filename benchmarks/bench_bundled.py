"""Size and speed of the bundled models at 256x256 on the CPU, beside OpenCV's Telea in the same run.

Times ``ic.inpaint(model, image, hole, "original")`` on one 256x256 image with a seeded ``thick`` stroke hole, whose
share the table prints (median of
``--repeats`` after one warm-up), with ``--threads`` torch threads (the issue's budget: about a second on 2 cores).

    python benchmarks/bench_bundled.py --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import inpaint_core as ic
from inpaint_core.catalog import BUNDLED_DIR, catalog
from inpaint_core.masks import generate_mask


def seconds(model: ic.InpaintModel, image: torch.Tensor, hole: torch.Tensor, repeats: int) -> float:
    ic.inpaint(model, image, hole, "original")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ic.inpaint(model, image, hole, "original")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 256, 256, generator=generator)
    hole = generate_mask("thick", 256, 256, generator)[None, None]
    bundled = {name: entry for name, entry in catalog().items() if entry.bundled}
    baseline = seconds(ic.load_model("opencv.telea"), image, hole, args.repeats)
    print(f"256x256, hole {hole.mean():.0%}, {args.threads} threads, median of {args.repeats}\n")
    print("| model | parameters | fp16 file MB | s / image | x Telea |")
    print("|---|---:|---:|---:|---:|")
    print(f"| opencv.telea | 0 | 0 | {baseline:.3f} | 1.0 |")
    total = 0
    for name, entry in bundled.items():
        model = ic.load_model(name)
        size = (BUNDLED_DIR / entry.bundled).stat().st_size
        total += size
        took = seconds(model, image, hole, args.repeats)
        params = sum(p.numel() for p in model.parameters())
        print(f"| {name} | {params / 1e6:.2f} M | {size / 1e6:.2f} | {took:.3f} | {took / baseline:.1f} |")
    print(f"\nAll bundled weights: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
