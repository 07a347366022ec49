"""Parity of our DeepFillv2 with nipponjo/deepfillv2-pytorch's ``model/networks_tf.py`` (the widely used port).

Builds the port's generator from a checkout of that repository (``--official-dir``; never vendored here), gives it
random weights (every weight scaled by ``--weight-gain``
so that activations do not vanish through the 30 gated layers and the output spans much of [0, 1]; biases random
too), saves them in the port's layout (``{'G': state_dict}``), converts the file with
``ic.convert_checkpoint("deepfill", ..., attention_fuse=False)`` and compares our ``predict`` with the port's refined
output ``(x_stage2 + 1) / 2`` one image at a time. With ``--fuse`` it also switches score fusion on in both (the
port's layer has the TF fusion code, unused by its generator) and compares again. Prints a Markdown table.

    python benchmarks/parity_deepfill.py --official-dir /path/to/deepfillv2-pytorch
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

import inpaint_core as ic


def _images(size: tuple[int, int], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random image in [0, 1] and a hole made of a box and a stroke, ``[1, 3, H, W]`` / ``[1, 1, H, W]``."""
    gen = torch.Generator().manual_seed(seed)
    height, width = size
    low = torch.rand(1, 3, height // 16, width // 16, generator=gen)
    image = torch.nn.functional.interpolate(low, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
    image = (image + 0.05 * torch.rand(1, 3, height, width, generator=gen)).clamp(0, 1)
    hole = torch.zeros(1, 1, height, width)
    top = int(torch.randint(0, height // 2, (1,), generator=gen))
    left = int(torch.randint(0, width // 2, (1,), generator=gen))
    hole[..., top : top + height // 3, left : left + width // 3] = 1
    hole[..., height // 2 : height // 2 + 9, :] = 1
    return image, hole


def _port_refined(port, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    x = image * 2 - 1
    masked = x * (1 - hole)
    ones = torch.ones_like(hole)
    _, refined = port(torch.cat([masked, ones, ones * hole], dim=1), hole)[:2]
    return (refined + 1) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official-dir", required=True, type=Path, help="checkout of nipponjo/deepfillv2-pytorch")
    parser.add_argument("--sizes", default="256x256,256x384,512x512")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fuse", action="store_true", help="also compare with score fusion on in both")
    parser.add_argument("--weight-gain", type=float, default=2.0, help="scale of the port's default init")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(args.official_dir.resolve()))
    from model.networks_tf import Generator  # the port, from its own checkout

    torch.manual_seed(args.seed)
    port = Generator(cnum_in=5, cnum=48).eval()
    with torch.no_grad():
        for name, param in port.named_parameters():
            if name.endswith("bias"):
                param.normal_(0, 0.05)
            else:
                param.mul_(args.weight_gain)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "states_tf_random.pth", Path(tmp) / "deepfill.safetensors"
        torch.save({"G": port.state_dict()}, src)
        print(f"port checkpoint: {len(port.state_dict())} tensors, "
              f"{sum(p.numel() for p in port.parameters()):,} parameters")
        ic.convert_checkpoint("deepfill", src, dst, attention_fuse=False)
        ours = ic.load_model(dst)
        ours_fused = ic.load_model(dst)
    ours_fused.generator.refine.contextual_attention.fuse = True

    print("\n| size | fuse | max abs diff on [0,1] (refined) | mean abs diff | std of the port's output |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for index, spec in enumerate(args.sizes.split(",")):
        size = tuple(int(v) for v in spec.split("x"))
        image, hole = _images(size, args.seed + index)
        cases = [(False, ours)] + ([(True, ours_fused)] if args.fuse else [])
        for fuse, model in cases:
            port.contextual_attention.fuse = fuse
            with torch.inference_mode():
                expected = _port_refined(port, image, hole)
                got = model.predict(image, hole)
            diff = (got - expected).abs()
            worst = max(worst, diff.max().item())
            stats = f"{diff.max().item():.3g} | {diff.mean().item():.3g} | {expected.std().item():.3f}"
            print(f"| {spec} | {fuse} | {stats} |")
    print(f"\nworst max abs diff: {worst:.3g} ({'PASS' if worst <= 1e-4 else 'FAIL'} at 1e-4)")


if __name__ == "__main__":
    main()
