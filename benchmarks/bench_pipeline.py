"""The pipeline's cost where it does not come from the network.

    python benchmarks/bench_pipeline.py [--models opencv.telea ...] [--repeats 5] [--threads 2] [--device cpu]
                                        [--photo] [--baseline /path/to/an/older/checkout]

Table 1, the ``crop`` strategy's fixed cost: one small hole (48x64) in a 512x512 and in a 4096x4096 image, timed
alternately (512, 4096, 512, ...) so that a changing load on a shared machine slows both alike; the ratio is 1.0 when
the cost does not grow with the image.

Table 2 (``--photo``): a 2048x1536 picture with three holes, ``resize`` with colour matching and a 16-pixel feather
(colour matching then grows the whole image's hole by a ring of 103 pixels).
With ``--baseline`` (a checkout of another revision of this repository: ``git clone . /tmp/old`` and
``git -C /tmp/old checkout REV``) the same case also runs in a second worker process that imports that checkout's
``inpaint_core``; the two workers are asked in turn, and the table gives both medians and the speed-up.

Medians of ``--repeats`` runs after one warm-up each. Models without trained weights at hand are built from their
presets (random weights: same cost).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch


def model_for(name: str, device: str):
    import inpaint_core as ic

    try:
        return ic.load_model(name, device=device)
    except ic.UnknownModelError:
        return ic.build_model(name).to(device).eval()


def small_hole_scene(size: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, size, size, generator=generator).to(device)
    hole = torch.zeros(1, 1, size, size, device=device)
    center = size // 2
    hole[..., center - 24 : center + 24, center - 32 : center + 32] = 1  # a 48x64 hole
    return image, hole


def photo_scene(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A 2048x1536 (width x height) smooth picture with texture and three holes of different sizes."""
    generator = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 1536), torch.linspace(0, 1, 2048), indexing="ij")
    image = torch.stack([0.5 + 0.3 * torch.sin(7 * xx + c) * torch.cos(5 * yy - c) for c in range(3)])[None]
    image = (image + 0.05 * torch.randn(image.shape, generator=generator)).clamp(0, 1).to(device)
    hole = torch.zeros(1, 1, 1536, 2048, device=device)
    for top, left, height, width in ((200, 300, 150, 200), (700, 1100, 300, 260), (1200, 400, 120, 420)):
        hole[..., top : top + height, left : left + width] = 1
    return image, hole


CASES = {
    "512": lambda device: (small_hole_scene(512, device), {}),
    "4096": lambda device: (small_hole_scene(4096, device), {}),
    "photo": lambda device: (photo_scene(device), {"color_match": True, "feather_pixels": 16, "strategy": "resize"}),
}


def serve(args: argparse.Namespace) -> None:
    """Worker: read ``{"model", "case"}`` lines, answer each with the seconds one ``inpaint`` call took."""
    import inpaint_core as ic

    torch.set_num_threads(args.threads)
    models, scenes = {}, {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["model"] not in models:
            models[request["model"]] = model_for(request["model"], args.device)
        model = models[request["model"]]
        if request["case"] not in scenes:
            scenes[request["case"]] = CASES[request["case"]](args.device)
            (image, hole), options = scenes[request["case"]]
            ic.inpaint(model, image, hole, **{"strategy": "crop", **options})  # warm-up
        (image, hole), options = scenes[request["case"]]
        start = time.perf_counter()
        ic.inpaint(model, image, hole, **{"strategy": "crop", **options})
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


class Worker:
    """A ``serve`` subprocess importing ``inpaint_core`` from ``checkout`` (None: this one)."""

    def __init__(self, args: argparse.Namespace, checkout: Path | None = None) -> None:
        env = dict(os.environ)
        root = checkout or Path(__file__).resolve().parent.parent
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--threads", str(args.threads),
                   "--device", args.device]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=env, cwd=root)

    def time(self, model: str, case: str) -> float:
        self.process.stdin.write(json.dumps({"model": model, "case": case}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker for {model} / {case} died (see its stderr above)")
        return json.loads(line)["seconds"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def alternate(jobs: list[tuple[Worker, str, str]], repeats: int) -> list[float]:
    """Median of ``repeats`` runs of each ``(worker, model, case)``, the jobs run in turn."""
    times = [[] for _ in jobs]
    for _ in range(repeats):
        for index, (worker, model, case) in enumerate(jobs):
            times[index].append(worker.time(model, case))
    return [statistics.median(values) for values in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["opencv.telea"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--photo", action="store_true", help="also time the 2048x1536 three-hole photo")
    parser.add_argument("--baseline", type=Path, help="a checkout of another revision to compare the photo with")
    parser.add_argument("--skip-crop", action="store_true", help="skip table 1")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args)
    ours = Worker(args)
    try:
        if not args.skip_crop:
            print(f"crop strategy, 48x64 hole, median of {args.repeats} (512 and 4096 alternating), "
                  f"{args.threads} threads, {args.device}\n")
            print("| model | 512x512 (s) | 4096x4096 (s) | ratio |")
            print("|---|---|---|---|")
            for name in args.models:
                small, large = alternate([(ours, name, "512"), (ours, name, "4096")], args.repeats)
                print(f"| {name} | {small:.3f} | {large:.3f} | {large / small:.2f} |", flush=True)
        if args.photo:
            baseline = Worker(args, args.baseline) if args.baseline else None
            try:
                print(f"\n2048x1536, three holes, resize + color_match + feather 16, median of {args.repeats}"
                      + (f", alternating with {args.baseline}" if baseline else "") + "\n")
                print("| model | before (s) | after (s) | speed-up |" if baseline else "| model | time (s) |")
                print("|---|---|---|---|" if baseline else "|---|---|")
                for name in args.models:
                    if baseline is None:
                        (after,) = alternate([(ours, name, "photo")], args.repeats)
                        print(f"| {name} | {after:.3f} |", flush=True)
                        continue
                    before, after = alternate([(baseline, name, "photo"), (ours, name, "photo")], args.repeats)
                    print(f"| {name} | {before:.2f} | {after:.3f} | {before / after:.0f}x |", flush=True)
            finally:
                if baseline:
                    baseline.close()
    finally:
        ours.close()


if __name__ == "__main__":
    main()
