"""Parity, speed and memory of our LaMa (big-lama) with the official code (github.com/advimman/lama).

Needs a checkout of the official repository (``--official-dir``). Nothing of it is copied here: the script imports the
official ``FFCResNetGenerator`` (``saicinpainting/training/modules/ffc.py``) and the official padding
(``saicinpainting/evaluation/data.py``: ``pad_img_to_modulo``). The package ``__init__`` files and two imports that
the inference path never calls (``kornia``'s ``rotate`` for the spatial-transform wrapper and
``pytorch_lightning.seed_everything`` in ``saicinpainting/utils.py``) are replaced by empty stand-ins, so neither
needs to be installed. The generator is built with the big-lama configuration (``configs/training/big-lama.yaml``),
every parameter and BatchNorm statistic is perturbed with seeded noise (no parameter stays at exactly 0 or 1), the
state dict is saved as a Lightning checkpoint (``{"state_dict": {"generator.*": ...}}``) and converted with
``inpaint_core.convert_checkpoint``. Compared on [0, 1], at 256x256, 512x512 and 300x340 (not a multiple of 8):
the test-time path of ``bin/predict.py`` (``pad_img_to_modulo(..., 8)`` of image and mask, ``mask > 0``, the
training module's forward ``generator(cat(img * (1 - mask), mask))``, crop to the input size) with our
``model.predict``.

With ``--bench`` it also times both at 512 (alternating, median of ``--repeats``; CPU and wall time, ``--threads``
threads) and measures each one's peak resident memory during one prediction in a subprocess of its own
(``benchmarks/side_by_side.py``).

    python benchmarks/parity_lama.py --official-dir /path/to/lama [--bench]

Exits with status 1 if a difference exceeds ``--tolerance`` (1e-4) or the parameter counts differ.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

import inpaint_core as ic

sys.path.insert(0, str(Path(__file__).parent))
import side_by_side  # noqa: E402
from parity_ctsdg import synthetic_image, synthetic_mask  # noqa: E402
from parity_migan import to_tensor  # noqa: E402

BIG_LAMA = dict(input_nc=4, output_nc=3, ngf=64, n_downsampling=3, n_blocks=18, add_out_act="sigmoid",
                init_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
                downsample_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
                resnet_conv_kwargs=dict(ratio_gin=0.75, ratio_gout=0.75, enable_lfu=False))
SIZES = ((256, 256), (512, 512), (300, 340))


def official_modules(official_dir: Path) -> tuple[ModuleType, ModuleType]:
    """The official ``ffc`` and ``evaluation.data`` modules, without their packages' heavy imports."""
    sys.path.insert(0, str(official_dir))
    for package in ("saicinpainting", "saicinpainting.training", "saicinpainting.training.modules",
                    "saicinpainting.evaluation"):
        module = ModuleType(package)
        module.__path__ = [str(official_dir / package.replace(".", "/"))]
        sys.modules.setdefault(package, module)
    kornia = ModuleType("kornia.geometry.transform")
    kornia.rotate = None
    lightning = ModuleType("pytorch_lightning")
    lightning.seed_everything = None
    for name, module in (("kornia", ModuleType("kornia")), ("kornia.geometry", ModuleType("kornia.geometry")),
                         ("kornia.geometry.transform", kornia), ("pytorch_lightning", lightning)):
        sys.modules.setdefault(name, module)
    return (importlib.import_module("saicinpainting.training.modules.ffc"),
            importlib.import_module("saicinpainting.evaluation.data"))


def perturb(network: torch.nn.Module, seed: int) -> None:
    """Seeded weights and BatchNorm statistics that keep activations of order one."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in network.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=rng)
            noise[noise == 0] = 1e-3  # randn can return an exact 0
            if tensor.ndim == 4:  # 0.7 / sqrt(fan): larger scales saturate the final sigmoid
                tensor.copy_(0.7 * noise / tensor[0].numel() ** 0.5)
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=rng) + 0.5)
            elif name.endswith("weight"):  # BatchNorm scale
                tensor.copy_(1 + 0.2 * noise)
            else:  # biases and running means
                tensor.copy_(0.1 * noise)
        for parameter in network.parameters():
            if ((parameter == 0) | (parameter == 1)).any():
                raise RuntimeError("a perturbed parameter is exactly 0 or 1")


def build_pair(official_dir: Path, seed: int, folder: Path):
    ffc, data = official_modules(official_dir)
    torch.manual_seed(seed)
    official = ffc.FFCResNetGenerator(**BIG_LAMA).eval()
    perturb(official, seed)
    checkpoint = folder / "best.ckpt"
    torch.save({"state_dict": {f"generator.{k}": v for k, v in official.state_dict().items()}}, checkpoint)
    ours = ic.load_model_file(ic.convert_checkpoint("lama", checkpoint, folder / "big-lama.safetensors"))
    return official, ours, data


def official_predict(official: torch.nn.Module, data: ModuleType, image: np.ndarray, mask: np.ndarray) -> torch.Tensor:
    """``bin/predict.py`` without file I/O: pad to 8 (numpy symmetric), binarise, generator, crop."""
    height, width = image.shape[1:]
    img = torch.from_numpy(data.pad_img_to_modulo(image, 8))[None]
    msk = torch.from_numpy(data.pad_img_to_modulo(mask, 8))[None]
    msk = (msk > 0) * 1
    predicted = official(torch.cat([img * (1 - msk), msk], dim=1))  # DefaultInpaintingTrainingModule.forward
    return predicted[..., :height, :width]


def inputs(height: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    side = max(height, width)
    picture = synthetic_image(side, seed).crop((0, 0, width, height))
    hole = synthetic_mask(side, seed).crop((0, 0, width, height))
    return to_tensor(picture)[0].numpy(), to_tensor(hole)[0].numpy()


def compare(args: argparse.Namespace) -> list[dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        official, ours, data = build_pair(args.official_dir, args.seed, Path(tmp))
    counts = (sum(p.numel() for p in official.parameters()), sum(p.numel() for p in ours.parameters()))
    rows = []
    for height, width in SIZES:
        image, mask = inputs(height, width, args.seed)
        with torch.inference_mode():
            reference = official_predict(official, data, image, mask)
            mine = ours.predict(torch.from_numpy(image)[None], torch.from_numpy(mask)[None])
        rows.append({"size": f"{height}x{width}", "params_official": counts[0], "params_ours": counts[1],
                     "diff": (mine - reference).abs().max().item(), "std": reference.std().item(),
                     "saturated": ((reference - 0.5).abs() > 0.49).float().mean().item()})
    return rows


def runs_at_512(args: argparse.Namespace) -> dict:
    """One prediction of each implementation at 512 on the same image and mask."""
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        official, ours, data = build_pair(args.official_dir, args.seed, Path(tmp))
    image, mask = inputs(512, 512, args.seed)
    return {"official": lambda: official_predict(official, data, image, mask),
            "ours": lambda: ours.predict(torch.from_numpy(image)[None], torch.from_numpy(mask)[None])}


def main() -> int:
    args = side_by_side.parity_arguments(__doc__, runs_at_512)
    if args is None:
        return 0
    rows = compare(args)
    print(f"big-lama generator: {rows[0]['params_official']:,} parameters (official), "
          f"{rows[0]['params_ours']:,} (ours)\n")
    print("| size | max abs diff on [0, 1] | official output: std / share within 0.01 of 0 or 1 |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['size']} | {row['diff']:.2e} | {row['std']:.3f} / {row['saturated']:.1%} |")
    failed = rows[0]["params_official"] != rows[0]["params_ours"] or any(r["diff"] > args.tolerance for r in rows)
    if args.bench:
        side_by_side.print_bench(side_by_side.bench(runs_at_512(args), args, __file__), args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
