"""MDRN: parameter counts, inference time and achieved GFLOP/s (batch 1, median of N runs), as a Markdown table.

    python benchmarks/bench_mdrn.py [--device cuda] [--size 256] [--runs 5] [--threads 2]

The FLOPs of a prediction are counted by ``torch.utils.flop_counter`` (matrix products and convolutions, 2 per
multiply-add); the reference peak is a 64-channel 3x3 convolution on a ``size x size`` map, timed in the same loop,
alternately with each preset, so that a changing load on a shared machine affects both alike. Measures only; the
weights are fresh (same cost as trained ones).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import torch

import inpaint_core as ic


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())


def _time(run, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _flops(run) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--presets", nargs="+", default=["celebahq", "compact", "tiny"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, args.size, args.size, generator=generator).to(device)
    hole = torch.zeros(1, 1, args.size, args.size, device=device)
    hole[..., args.size // 4 : 3 * args.size // 4, args.size // 4 : 3 * args.size // 4] = 1  # 25 % hole
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(device).eval()
    features = torch.rand(1, 64, args.size, args.size, device=device)

    def run_conv():
        with torch.inference_mode():
            return conv(features)

    conv_flops = _flops(run_conv)
    print(f"MDRN on {device} ({torch.get_num_threads()} threads), {args.size}x{args.size}, batch 1, "
          f"median of {args.runs} (each preset alternating with the 64-channel 3x3 conv)\n")
    print("| preset | total params | coarse | refinement | of which DMM + MREM | GFLOPs | median s "
          "| GFLOP/s | conv GFLOP/s | of the conv's |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in args.presets:
        model = ic.build_model(f"mdrn.{preset}").to(device).eval()
        run_model = functools.partial(model.predict, image, hole)
        flops = _flops(run_model)
        run_model(), run_conv()  # warm-up
        times, conv_times = [], []
        for _ in range(args.runs):
            times.append(_time(run_model, device))
            conv_times.append(_time(run_conv, device))
        rate = flops / statistics.median(times) / 1e9
        peak = conv_flops / statistics.median(conv_times) / 1e9
        print(f"| {preset} | {_count(model) / 1e6:.2f} M | {_count(model.coarse) / 1e6:.2f} M "
              f"| {_count(model.refine) / 1e6:.2f} M | {_count(model.refine.fusion) / 1e6:.2f} M "
              f"| {flops / 1e9:.1f} | {statistics.median(times):.3f} | {rate:.1f} | {peak:.1f} "
              f"| {100 * rate / peak:.0f} % |", flush=True)


if __name__ == "__main__":
    main()
