"""MDRN: parameter counts and inference time (batch 1, median of N runs), printed as a Markdown table.

    python benchmarks/bench_mdrn.py [--device cuda] [--size 256] [--runs 5] [--threads 2]

Measures only; the numbers depend on the machine. The weights are fresh (no trained MDRN weights exist), which does
not change the time of a forward pass.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import inpaint_core as ic


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())


def _time(model, image, hole, runs: int, device: torch.device) -> list[float]:
    times = []
    with torch.inference_mode():
        model.predict(image, hole)  # warm-up
        for _ in range(runs):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.predict(image, hole)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--presets", nargs="+", default=["celebahq", "tiny"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, args.size, args.size, generator=generator).to(device)
    hole = torch.zeros(1, 1, args.size, args.size, device=device)
    hole[..., args.size // 4 : 3 * args.size // 4, args.size // 4 : 3 * args.size // 4] = 1  # 25 % hole

    print(f"MDRN on {device} ({torch.get_num_threads()} threads), {args.size}x{args.size}, batch 1, "
          f"median of {args.runs}\n")
    print("| preset | total params | coarse | refinement | of which DMM + MREM | median s | min s |")
    print("|---|---|---|---|---|---|---|")
    for preset in args.presets:
        model = ic.build_model(f"mdrn.{preset}").to(device).eval()
        times = _time(model, image, hole, args.runs, device)
        print(f"| {preset} | {_count(model) / 1e6:.2f} M | {_count(model.coarse) / 1e6:.2f} M "
              f"| {_count(model.refine) / 1e6:.2f} M | {_count(model.refine.fusion) / 1e6:.2f} M "
              f"| {statistics.median(times):.3f} | {min(times):.3f} |")


if __name__ == "__main__":
    main()
