"""How the ``crop`` strategy's cost grows with the image: a small hole in 512x512 vs 4096x4096 images.

    python benchmarks/bench_pipeline.py [--models opencv.telea ...] [--repeats 5] [--threads 2] [--device cpu]

Prints a Markdown table of median wall times and the 4096/512 ratio (1.0 = the cost does not grow with the image).
Models without trained weights at hand are built from their presets (random weights: same cost).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import inpaint_core as ic


def model_for(name: str, device: str) -> ic.InpaintModel:
    try:
        return ic.load_model(name, device=device)
    except ic.UnknownModelError:
        return ic.build_model(name).to(device).eval()


def median_time(model, image, hole, repeats: int) -> float:
    ic.inpaint(model, image, hole, "crop")  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ic.inpaint(model, image, hole, "crop")
        if image.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scene(size: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, size, size, generator=generator).to(device)
    hole = torch.zeros(1, 1, size, size, device=device)
    center = size // 2
    hole[..., center - 24 : center + 24, center - 32 : center + 32] = 1  # a 48x64 hole
    return image, hole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["opencv.telea"])
    parser.add_argument("--sizes", nargs=2, type=int, default=[512, 4096])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    small, large = args.sizes
    print(f"crop strategy, 48x64 hole, median of {args.repeats}, {args.threads} threads, {args.device}\n")
    print(f"| model | {small}x{small} (s) | {large}x{large} (s) | ratio |")
    print("|---|---|---|---|")
    for name in args.models:
        model = model_for(name, args.device)
        t_small = median_time(model, *scene(small, args.device), args.repeats)
        t_large = median_time(model, *scene(large, args.device), args.repeats)
        print(f"| {name} | {t_small:.3f} | {t_large:.3f} | {t_large / t_small:.2f} |")


if __name__ == "__main__":
    main()
