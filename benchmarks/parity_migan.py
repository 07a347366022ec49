"""Parity, speed and memory of our MI-GAN with the official code (github.com/Picsart-AI-Research/MI-GAN).

Needs a checkout of the official repository (``--official-dir``). Nothing of it is copied here: the script imports the
official inference generator (``lib/model_zoo/migan_inference.py``, loaded by path, because ``lib/model_zoo``'s
package import pulls in the training code) and the official pre-processing (``scripts/demo.py``'s ``preprocess``,
with the training-only modules it imports replaced by empty stand-ins). For each network size it builds the official
generator, perturbs every parameter with seeded noise (no parameter stays at exactly 0 or 1; the ``filter_const``
zero-insertion buffers stay as they are), saves the state dict as the release does, converts that file with
``inpaint_core.convert_checkpoint`` and compares, on [0, 1]:

- 256 and 512: the official ``preprocess`` -> generator -> ``(out * 0.5 + 0.5).clamp(0, 1)`` (``demo.py`` before its
  uint8 rounding) with our ``model.predict`` on the same uint8-exact image and mask at the network's size;
- 300x340 (not a multiple of 8): MI-GAN's buffers are fixed, so ``model.predict`` must refuse that size (checked) and
  the pipeline's ``resize`` strategy scales the image to the network's size and back; the script runs
  ``inpaint_core.inpaint(strategy="resize")`` once with our model and once with the official generator in its place
  (same resizing and composite) and compares the two.

With ``--bench`` it also times both implementations at 512 (alternating, median of ``--repeats``; CPU time and wall
time, ``--threads`` threads) and measures each one's peak resident memory during one prediction in a subprocess of
its own (``benchmarks/side_by_side.py``).

    python benchmarks/parity_migan.py --official-dir /path/to/MI-GAN [--bench]

Exits with status 1 if a difference exceeds ``--tolerance`` (1e-4).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from PIL import Image

import inpaint_core as ic
from inpaint_core.models.base import InpaintModel

sys.path.insert(0, str(Path(__file__).parent))
import side_by_side  # noqa: E402
from parity_ctsdg import synthetic_image, synthetic_mask  # noqa: E402


def _module_from(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official_modules(official_dir: Path) -> tuple[ModuleType, ModuleType]:
    """The official ``migan_inference`` module and ``scripts/demo.py`` (for ``preprocess``)."""
    inference = _module_from(official_dir / "lib" / "model_zoo" / "migan_inference.py", "migan_inference")
    comodgan = ModuleType("lib.model_zoo.comodgan")  # demo.py imports Co-Mod-GAN classes it does not use here
    comodgan.Generator = comodgan.Mapping = comodgan.Encoder = comodgan.Synthesis = None
    stand_ins = {"lib": ModuleType("lib"), "lib.model_zoo": ModuleType("lib.model_zoo"),
                 "lib.model_zoo.migan_inference": inference, "lib.model_zoo.comodgan": comodgan}
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        demo = _module_from(official_dir / "scripts" / "demo.py", "migan_demo")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name)
            else:
                sys.modules[name] = module
    return inference, demo


def perturb(network: torch.nn.Module, seed: int) -> None:
    """Seeded weights that keep activations of order one; every parameter moves off its initial value."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            noise = torch.randn(parameter.shape, generator=rng)
            noise[noise == 0] = 1e-3  # randn can return an exact 0
            if name.endswith("filter.weight"):  # the FIR filters: near their [1, 3, 3, 1] start
                parameter.mul_(1 + 0.1 * noise)
            elif parameter.ndim == 4:  # 0.8 / sqrt(fan_in): with the official gain sqrt(2) per layer, 1.0 saturates
                parameter.copy_(0.8 * noise / parameter[0].numel() ** 0.5)
            else:  # biases and noise strengths
                parameter.copy_(0.1 * noise)
        for parameter in network.parameters():
            if ((parameter == 0) | (parameter == 1)).any():
                raise RuntimeError("a perturbed parameter is exactly 0 or 1")


class OfficialInPipeline(InpaintModel):
    """The official generator behind our model interface, with ``demo.py``'s pre- and post-processing formulas."""

    family = "migan"
    size_multiple = 1
    fixed_size = True

    def __init__(self, generator: torch.nn.Module, resolution: int) -> None:
        super().__init__(None, "official")
        self.generator, self.working_size = generator, resolution

    def predict_outputs(self, image, hole, generator=None):
        known = 1 - hole
        x = torch.cat([known - 0.5, (image * 2 - 1) * known], dim=1)  # demo.py: cat([mask - 0.5, img * mask])
        return {"image": (self.generator(x) * 0.5 + 0.5).clamp(0, 1)}


def to_tensor(picture: Image.Image) -> torch.Tensor:
    array = np.asarray(picture, dtype=np.float32) / 255
    return torch.from_numpy(array.reshape(*array.shape[:2], -1)).permute(2, 0, 1)[None].contiguous()


def build_pair(official_dir: Path, resolution: int, seed: int, folder: Path):
    inference, demo = official_modules(official_dir)
    torch.manual_seed(seed)
    official = inference.Generator(resolution=resolution).eval()
    perturb(official, seed)
    checkpoint = folder / f"migan_{resolution}.pt"
    torch.save(official.state_dict(), checkpoint)
    ours = ic.load_model_file(ic.convert_checkpoint("migan", checkpoint, folder / f"migan_{resolution}.safetensors"))
    return official, ours, demo


def compare(official_dir: Path, resolution: int, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        official, ours, demo = build_pair(official_dir, resolution, seed, Path(tmp))
    counts = (sum(p.numel() for p in official.parameters()), sum(p.numel() for p in ours.parameters()))
    picture, hole_picture = synthetic_image(resolution, seed), synthetic_mask(resolution, seed)
    known_picture = Image.fromarray(255 - np.asarray(hole_picture))  # demo.py: white = known
    with torch.no_grad():
        x = demo.preprocess(picture, known_picture, resolution)
        reference = (official(x) * 0.5 + 0.5).clamp(0, 1)
        mine = ours.predict(to_tensor(picture), to_tensor(hole_picture))
        # a size the fixed buffers cannot take: refused by predict, handled by the pipeline's resize
        big = synthetic_image(340, seed + 7).crop((0, 0, 340, 300))
        big_hole = synthetic_mask(340, seed + 7).crop((0, 0, 340, 300))
        image, hole = to_tensor(big), to_tensor(big_hole)
        try:
            ours.predict(image, hole)
            refused = False
        except ic.InputError:
            refused = True
        via_ours = ic.inpaint(ours, image, hole, strategy="resize")
        via_official = ic.inpaint(OfficialInPipeline(official, resolution), image, hole, strategy="resize")
    return {"params_official": counts[0], "params_ours": counts[1],
            "diff_native": (mine - reference).abs().max().item(), "std": reference.std().item(),
            "clamped": ((reference == 0) | (reference == 1)).float().mean().item(),
            "diff_300x340": (via_ours - via_official).abs().max().item(), "refused_300x340": refused}


def runs_at_512(args: argparse.Namespace) -> dict:
    """One prediction of each implementation at 512 on the same image and mask."""
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        official, ours, demo = build_pair(args.official_dir, 512, args.seed, Path(tmp))
    picture, hole_picture = synthetic_image(512, args.seed), synthetic_mask(512, args.seed)
    known_picture = Image.fromarray(255 - np.asarray(hole_picture))
    image, hole = to_tensor(picture), to_tensor(hole_picture)
    return {"official": lambda: (official(demo.preprocess(picture, known_picture, 512)) * 0.5 + 0.5).clamp(0, 1),
            "ours": lambda: ours.predict(image, hole)}


def main() -> int:
    args = side_by_side.parity_arguments(__doc__, runs_at_512)
    if args is None:
        return 0
    failed = False
    print("| network | parameters (official / ours) | max abs diff at its size | max abs diff, 300x340 via "
          "resize | 300x340 refused by predict | output std / clamped share |")
    print("|---|---|---|---|---|---|")
    for resolution in (256, 512):
        r = compare(args.official_dir, resolution, args.seed)
        failed |= (r["params_official"] != r["params_ours"] or max(r["diff_native"], r["diff_300x340"])
                   > args.tolerance or not r["refused_300x340"])
        print(f"| MI-GAN {resolution} | {r['params_official']:,} / {r['params_ours']:,} | {r['diff_native']:.2e} | "
              f"{r['diff_300x340']:.2e} | {r['refused_300x340']} | {r['std']:.3f} / {r['clamped']:.1%} |")
    if args.bench:
        side_by_side.print_bench(side_by_side.bench(runs_at_512(args), args, __file__), args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
