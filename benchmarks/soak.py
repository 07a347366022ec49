"""Soak: many ``ic.inpaint`` calls with every strategy over varied sizes, and many node executions through the
node functions (``nodes/logic.py``, without ComfyUI), printing RSS and open file descriptors over time.

python benchmarks/soak.py --calls 400 --nodes 400          # the figures in docs/reliability.md

Growth is judged after a warm-up (the first ``--warmup`` calls fill caches and the allocator's pools).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import resource
import sys
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import inpaint_core as ic  # noqa: E402

MODELS = ["opencv.telea", "opencv.ns", "mdrn-compact-utkface", "deepfill-compact-utkface", "ctsdg-compact-utkface"]
SIZES = [(48, 64), (96, 80), (128, 128), (200, 150), (64, 256)]


def rss_mb() -> float:
    """The resident set size now (not the peak), from /proc."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def node_logic():
    """``nodes/logic.py`` imported as part of the pack without running ``nodes/__init__.py`` (which needs ComfyUI)."""
    pack = types.ModuleType("inpaint_pack")
    pack.__path__ = [str(ROOT)]
    nodes = types.ModuleType("inpaint_pack.nodes")
    nodes.__path__ = [str(ROOT / "nodes")]
    sys.modules.update({"inpaint_pack": pack, "inpaint_pack.nodes": nodes})
    return importlib.import_module("inpaint_pack.nodes.logic")


def case(index: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(index)
    height, width = SIZES[index % len(SIZES)]
    image = torch.rand(1, 3, height, width, generator=generator)
    hole = torch.zeros(1, 1, height, width)
    top, left = height // 4 + index % 7, width // 3 - index % 5
    hole[..., top : top + height // 3, left : left + width // 4] = 1
    return image, hole


def library_call(models: dict[str, ic.InpaintModel], index: int) -> None:
    image, hole = case(index)
    model = models[MODELS[index % len(MODELS)]]
    strategy = ic.STRATEGIES[(index // len(MODELS)) % len(ic.STRATEGIES)]
    if strategy == "original" and model.fixed_size:
        strategy = "resize"
    ic.inpaint(model, image, hole, strategy, feather_pixels=index % 3 * 2, color_match=index % 2 == 0)


def node_call(logic, models: dict[str, ic.InpaintModel], index: int) -> None:
    """One node execution each: inpaint, adjust mask, pre-fill, generate masks, face crop and stitch."""
    image, hole = case(index)
    comfy_image, comfy_mask = image.movedim(1, -1), hole[:, 0]
    step = index % 5
    if step == 0:
        logic.run_inpaint(models[MODELS[index % len(MODELS)]], comfy_image, comfy_mask, strategy="crop", seed=index)
    elif step == 1:
        logic.adjust_mask(comfy_mask, grow_pixels=index % 9 - 4, feather_pixels=index % 4, threshold=0.5)
    elif step == 2:
        logic.prefill(comfy_image, comfy_mask, ("telea", "navier-stokes", "neutral")[index % 3])
    elif step == 3:
        logic.generate_masks("box", 64, 64, batch=2, seed=index)
    else:
        aligned = logic.FaceOptions(assume_aligned=True)  # the pack's own options type
        face_image, _, crops = logic.crop_faces(comfy_image, comfy_mask, size=64, face_options=aligned)
        logic.stitch_faces(crops, face_image)


def soak(calls: int, node_calls: int, warmup: int, every: int, report=print) -> list[tuple[str, int, float, int]]:
    """Run the calls; returns (phase, calls done, RSS MB, open fds) samples, every ``every`` calls."""
    torch.manual_seed(0)
    models = {name: ic.load_model(name) for name in MODELS}
    logic = node_logic()
    samples = []
    report(f"{'phase':<8} {'calls':>6} {'RSS MB':>8} {'fds':>5}")
    for phase, count, run in (("library", calls, lambda i: library_call(models, i)),
                              ("nodes", node_calls, lambda i: node_call(logic, models, i))):
        for index in range(count):
            run(index)
            if (index + 1) % every == 0 or index + 1 == warmup:
                gc.collect()
                samples.append((phase, index + 1, rss_mb(), open_fds()))
                report(f"{phase:<8} {index + 1:>6} {samples[-1][2]:>8.1f} {samples[-1][3]:>5}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--nodes", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--every", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(2)
    samples = soak(args.calls, args.nodes, args.warmup, args.every)
    for phase in ("library", "nodes"):
        mine = [s for s in samples if s[0] == phase]
        warm = next(s for s in mine if s[1] >= args.warmup)
        print(f"{phase}: {mine[-1][1]} calls; RSS {warm[2]:.1f} MB after {warm[1]} -> {mine[-1][2]:.1f} MB at the "
              f"end ({mine[-1][2] - warm[2]:+.1f} MB); fds {warm[3]} -> {mine[-1][3]}")


if __name__ == "__main__":
    main()
