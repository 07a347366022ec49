"""Parity of our CTSDG with the official implementation (github.com/xiefan-guo/ctsdg) on the same weights and inputs.

Needs a checkout of the official repository (``--official-dir``) and what its data pipeline imports (torchvision,
scikit-image, Pillow). Nothing of it is copied here: the script imports the official ``Generator`` and data
transforms from that folder, builds the generator with seeded random weights (rescaled so that every layer carries
signal: the official N(0, 0.02) initialisation and zero Bi-GFF gammas would leave most of the network idle), saves
them in the official checkpoint format, converts that file with ``inpaint_core.convert_checkpoint`` and compares
the official test-time computation (``test.py``: its dataset transforms, ``image_to_edge``, generator, composite,
``postprocess``) with our ``model.predict`` (``legacy`` preprocessing) on one image and mask. For scale, it also runs
the official generator in float64 and reports how far each float32 output is from that.

    python benchmarks/parity_ctsdg.py --official-dir /path/to/ctsdg [--image img.png --mask mask.png] [--size 256]

Prints a Markdown table of max absolute differences on [0, 1]; exits with status 1 if the raw output differs by
more than ``--tolerance`` (1e-4).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import inpaint_core as ic
from inpaint_core.models.ctsdg import structure_maps


def synthetic_image(size: int, seed: int) -> Image.Image:
    """A deterministic picture with smooth shading, hard shapes and texture, so Canny finds real edges."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    image = np.stack([0.5 + 0.4 * np.sin(6 * xx + c) * np.cos(4 * yy - c) for c in range(3)], -1)
    for _ in range(12):
        cy, cx, r = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.04, 0.2)]
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = rng.uniform(0, 1, 3)
    image += rng.normal(0, 0.03, image.shape)
    return Image.fromarray((image.clip(0, 1) * 255).round().astype(np.uint8))


def synthetic_mask(size: int, seed: int) -> Image.Image:
    """White strokes on black (NVIDIA mask convention: white = hole), about 20 % of the image."""
    rng = np.random.default_rng(seed + 1)
    yy, xx = np.mgrid[0:size, 0:size]
    hole = np.zeros((size, size), bool)
    for _ in range(6):
        y, x = rng.uniform(0, size, 2)
        angle = rng.uniform(0, 2 * math.pi)
        for _ in range(30):
            hole |= (yy - y) ** 2 + (xx - x) ** 2 < (size / 30) ** 2
            angle += rng.normal(0, 0.4)
            y, x = np.clip([y + 4 * math.sin(angle), x + 4 * math.cos(angle)], 0, size - 1)
    return Image.fromarray(hole.astype(np.uint8) * 255)


def randomise(generator: torch.nn.Module, seed: int) -> None:
    """Seeded weights with activations of order one everywhere (He-normal convs, random BN statistics and gammas)."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in generator.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=rng)
            if tensor.ndim == 4:
                tensor.copy_(noise * math.sqrt(2.0 / tensor[0].numel()))
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=rng) + 0.5)
            elif name.endswith("gamma"):
                tensor.copy_(0.5 * noise)
            elif name.endswith("weight"):  # BatchNorm scale
                tensor.copy_(1 + 0.2 * noise)
            else:  # biases and running means
                tensor.copy_(0.1 * noise)


def official_run(official_dir: Path, image: Image.Image, mask: Image.Image, size: int, seed: int, checkpoint: Path):
    """Build, randomise and save the official generator; run its test-time path. Returns tensors in [0, 1]."""
    sys.path.insert(0, str(official_dir))
    from datasets.dataset import ImageDataset  # official code, imported from the checkout
    from models.discriminator.discriminator import Discriminator
    from models.generator.generator import Generator
    from utils.misc import postprocess

    torch.manual_seed(seed)
    generator = Generator(image_in_channels=3, edge_in_channels=2, out_channels=3)
    randomise(generator, seed)
    discriminator = Discriminator(image_in_channels=3, edge_in_channels=2)
    torch.save({"n_iter": 0, "generator": generator.state_dict(), "discriminator": discriminator.state_dict()},
               checkpoint)
    folders = checkpoint.parent
    for kind, picture in (("images", image), ("masks", mask)):
        (folders / kind).mkdir()
        picture.save(folders / kind / "0.png")
    dataset = ImageDataset(str(folders / "images"), str(folders / "masks"), (size, size), sigma=2.0, mode="test")
    ground_truth, valid, edge, gray = (t[None] for t in dataset[0])
    generator.eval()
    with torch.no_grad():
        output, _, projected_edge = generator(ground_truth * valid, torch.cat((edge * valid, gray * valid), 1), valid)
        # the same computation in float64: how far float32 rounding alone moves the official output
        exact, _, _ = generator.double()(*(t.double() for t in (ground_truth * valid,
                                                               torch.cat((edge * valid, gray * valid), 1), valid)))
    composite = ground_truth * valid + output * (1 - valid)
    return {"raw": postprocess(output), "composite": postprocess(composite), "edge_out": projected_edge,
            "edge_in": edge, "gray_in": gray, "hole": 1 - valid, "raw64": postprocess(exact)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official-dir", type=Path, required=True)
    parser.add_argument("--image", type=Path)
    parser.add_argument("--mask", type=Path, help="white = hole, as the NVIDIA masks the official code reads")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = args.size
    # the official transforms resize with PIL; resizing first makes their Resize the identity and our input equal
    image = (Image.open(args.image).convert("RGB") if args.image else synthetic_image(size, args.seed))
    image = image.resize((size, size), Image.BILINEAR)
    mask = Image.open(args.mask).convert("L") if args.mask else synthetic_mask(size, args.seed)
    mask = mask.resize((size, size), Image.NEAREST)

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, converted = Path(tmp) / "official.pt", Path(tmp) / "ctsdg.safetensors"
        ref = official_run(args.official_dir.resolve(), image, mask, size, args.seed, checkpoint)
        ic.convert_checkpoint("ctsdg", checkpoint, converted)
        model = ic.load_model(converted)
    pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float().div(255)  # as ToTensor
    hole = ref["hole"]
    with torch.inference_mode():
        outputs = model.predict_unhidden(pixels, hole)
        edge, gray = structure_maps(pixels, model.config.preprocessing, model.config.canny_sigma)
    composite = pixels * (1 - hole) + outputs["image"] * hole
    rows = {
        "edge input (legacy Canny), differing pixels": int((edge != ref["edge_in"]).sum()),
        "gray input, max abs diff": float((gray - ref["gray_in"]).abs().max()),
        "raw output [0,1], max abs diff": float((outputs["image"] - ref["raw"]).abs().max()),
        "composite [0,1], max abs diff": float((composite - ref["composite"]).abs().max()),
        "edge output, max abs diff": float((outputs["edge"] - ref["edge_out"]).abs().max()),
        "official float32 vs official float64, max abs diff": float((ref["raw"] - ref["raw64"]).abs().max()),
        "ours float32 vs official float64, max abs diff": float((outputs["image"] - ref["raw64"]).abs().max()),
    }
    print(f"CTSDG parity at {size}x{size}, hole {float(hole.mean()):.1%}, official output std "
          f"{float(ref['raw'].std()):.3f}, torch {torch.__version__}\n")
    print("| quantity | value |\n|---|---|")
    for name, value in rows.items():
        print(f"| {name} | {value:.3g} |" if isinstance(value, float) else f"| {name} | {value} |")
    return 0 if rows["raw output [0,1], max abs diff"] <= args.tolerance and rows[
        "edge input (legacy Canny), differing pixels"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
