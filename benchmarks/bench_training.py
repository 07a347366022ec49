"""Training throughput (images/s) of every trainable family's presets: the trainer's own G + D step.

    python benchmarks/bench_training.py [--device cuda] [--which tiny full] [--steps 3] [--batch 4]
        [--tiny_size 128] [--full_size 256] [--mixed_precision no|bf16|fp16] [--threads 2]

"full" is each family's first preset that is not ``tiny`` (its paper-size network). Random images and a 25 % box
hole; one warm-up step, then the median over ``--steps`` steps. Measures only, never asserts; the numbers depend on
the machine and on its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from accelerate import Accelerator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import inpaint_core as ic  # noqa: E402
from inpaint_core.registry import families  # noqa: E402
from training.cli import parse_literal  # noqa: E402
from training.objectives import OBJECTIVES, build_objective  # noqa: E402
from training.train import gan_step  # noqa: E402


def _presets(which: list[str], only: list[str]) -> list[tuple[str, str]]:
    chosen = []
    for family in families().values():
        if family.name not in OBJECTIVES or (only and family.name not in only):
            continue
        full = next((p for p in family.presets if p != "tiny"), None)
        for kind in which:
            preset = "tiny" if kind == "tiny" else full
            if preset in family.presets:
                chosen.append((kind, f"{family.name}.{preset}"))
    return chosen


def measure(
    name: str, size: int, batch: int, steps: int, accelerator: Accelerator, options: dict[str, object]
) -> tuple[int, float, float]:
    """(size used, median seconds per step, images per second); fixed-size networks run at their own size."""
    torch.manual_seed(0)
    model = ic.build_model(name).train().to(accelerator.device)
    size = model.working_size if model.fixed_size else size
    objective = build_objective(model.family, model.config, options).to(accelerator.device)
    g_params = [p for p in model.parameters() if p.requires_grad]
    d_params = [p for p in objective.discriminator.parameters() if p.requires_grad]
    opt_g, opt_d = accelerator.prepare(torch.optim.Adam(g_params, 1e-4), torch.optim.Adam(d_params, 1e-4))
    image = torch.rand(batch, 3, size, size, device=accelerator.device)
    hole = torch.zeros(batch, 1, size, size, device=accelerator.device)
    hole[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1
    times = []
    for _ in range(steps + 1):
        if accelerator.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        gan_step(accelerator, objective, model, image, hole, opt_g, opt_d, g_params, d_params)
        if accelerator.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    median = statistics.median(times[1:])
    return size, median, batch / median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--which", nargs="+", default=["tiny", "full"], choices=["tiny", "full"])
    parser.add_argument("--families", nargs="*", default=[], help="only these families (default: all trainable)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--tiny_size", type=int, default=128)
    parser.add_argument("--full_size", type=int, default=256)
    parser.add_argument("--mixed_precision", default="no", choices=["no", "bf16", "fp16"])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument(
        "--objective",
        nargs="*",
        default=[],
        metavar="FAMILY.KEY=VALUE",
        help="objective options (JSON values), e.g. isfrnet.perceptual=0 progressive.semantic_weights=null "
        "progressive.allow_random_semantic=true (to run without VGG16 weights)",
    )
    args = parser.parse_args()
    options: dict[str, dict[str, object]] = {}
    for item in args.objective:
        key, _, value = item.partition("=")
        family_name, _, option = key.partition(".")
        options.setdefault(family_name, {})[option] = parse_literal(value)
    torch.set_num_threads(args.threads)
    accelerator = Accelerator(cpu=args.device == "cpu", mixed_precision=args.mixed_precision)
    where = torch.cuda.get_device_name() if accelerator.device.type == "cuda" else f"CPU, {args.threads} threads"
    print(
        f"Training step (G + D) on {where}, batch {args.batch}, precision {args.mixed_precision}, "
        f"median of {args.steps} steps after 1 warm-up\n"
    )
    print("| preset | size | s / step | images / s |")
    print("|---|---|---:|---:|")
    for kind, name in _presets(args.which, args.families):
        size = args.tiny_size if kind == "tiny" else args.full_size
        try:
            family_options = options.get(name.split(".")[0], {})
            size, seconds, rate = measure(name, size, args.batch, args.steps, accelerator, family_options)
        except (ic.WeightsError, ValueError) as error:  # e.g. a loss network whose weights are not here
            print(f"| {name} | {size} | not run: {error} | |", flush=True)
            continue
        note = ", ".join(f"{k}={v}" for k, v in options.get(name.split(".")[0], {}).items())
        print(f"| {name}{f' ({note})' if note else ''} | {size} | {seconds:.3f} | {rate:.2f} |", flush=True)


if __name__ == "__main__":
    main()
