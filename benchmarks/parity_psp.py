"""Parity of our ``psp`` family with the official pixel2style2pixel code (fp32, CPU).

The official code is not part of this repository: clone https://github.com/eladrich/pixel2style2pixel somewhere and
pass ``--official-dir``. Its custom CUDA ops are replaced by their CPU paths: ``upfirdn2d`` runs the official
``upfirdn2d_native`` (the JIT build at import is skipped) and the fused bias + leaky ReLU is ``leaky_relu(x + b, 0.2)
* sqrt(2)``, as rosinality's CPU fallback. The official module imports ``matplotlib`` only to select a backend; put a
stub on ``PYTHONPATH`` if it is not installed.

Steps: build the official encoder and generator with random weights (zero-initialised biases, noise strengths and BN
statistics randomised too), save them in the released checkpoint format, load that file with the official ``pSp``
class, convert it with ``ic.convert_checkpoint("psp", ...)``, load ours with ``ic.load_model`` and compare
``forward(x, resize=True, randomize_noise=False, return_latents=True)`` on the same input.

    python benchmarks/parity_psp.py --official-dir /path/to/pixel2style2pixel [--output-size 1024]
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import tempfile
import time
import types
from argparse import Namespace
from pathlib import Path

import torch
import torch.nn.functional as F

import inpaint_core as ic


def install_cpu_ops() -> None:
    """Make ``models.stylegan2.op`` importable without compiling CUDA: native upfirdn2d and leaky ReLU."""
    import torch.utils.cpp_extension as cpp_extension

    real_load = cpp_extension.load
    cpp_extension.load = lambda *args, **kwargs: None  # the official module builds its kernels at import
    try:
        official_upfirdn2d = importlib.import_module("models.stylegan2.op.upfirdn2d")
    finally:
        cpp_extension.load = real_load
    official_upfirdn2d.F = F  # the official file uses F in upfirdn2d_native without importing it

    def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
        batch, channels, height, width = x.shape
        out = official_upfirdn2d.upfirdn2d_native(x.reshape(-1, height, width, 1), kernel, up, up, down, down,
                                                  pad[0], pad[1], pad[0], pad[1])
        return out.view(batch, channels, out.shape[1], out.shape[2])

    def fused_leaky_relu(x, bias, negative_slope=0.2, scale=2**0.5):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return F.leaky_relu(x + bias.view(shape), negative_slope) * scale

    class FusedLeakyReLU(torch.nn.Module):
        def __init__(self, channel, negative_slope=0.2, scale=2**0.5):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.zeros(channel))
            self.negative_slope, self.scale = negative_slope, scale

        def forward(self, x):
            return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)

    op = types.ModuleType("models.stylegan2.op")
    op.upfirdn2d, op.fused_leaky_relu, op.FusedLeakyReLU = upfirdn2d, fused_leaky_relu, FusedLeakyReLU
    sys.modules["models.stylegan2.op"] = op


def randomise_(state: dict[str, torch.Tensor], generator: torch.Generator) -> None:
    """Give zero- or one-initialised tensors random values so that every term of the forward pass matters."""
    for key, tensor in state.items():
        if not tensor.is_floating_point() or key.endswith("kernel"):
            continue
        noise = torch.randn(tensor.shape, generator=generator)
        if key.endswith("running_var"):
            tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
        elif key.endswith(("running_mean", ".bias", "noise.weight")) or (tensor.ndim == 1 and "encoder" in key):
            tensor.add_(0.1 * noise)


def official_opts(output_size: int) -> dict:
    """The options of a released pSp inversion model (plus what the official class reads at runtime)."""
    return {"encoder_type": "GradualStyleEncoder", "input_nc": 3, "label_nc": 0, "output_size": output_size,
            "start_from_latent_avg": True, "learn_in_w": False, "dataset_type": "ffhq_encode", "device": "cpu",
            "n_styles": 2 * int(math.log2(output_size)) - 2}


def write_random_release(output_size: int, path: Path, seed: int) -> dict:
    """Save official modules with random weights as a released pSp file at ``path``; returns its ``opts``."""
    from models.encoders.psp_encoders import GradualStyleEncoder  # noqa: PLC0415
    from models.stylegan2.model import Generator  # noqa: PLC0415

    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opts = official_opts(output_size)
    n_styles = opts["n_styles"]
    encoder = GradualStyleEncoder(50, "ir_se", Namespace(**opts))
    decoder = Generator(output_size, 512, 8)
    state = {f"encoder.{k}": v for k, v in encoder.state_dict().items()}
    state.update({f"decoder.{k}": v for k, v in decoder.state_dict().items()})
    randomise_(state, generator)
    latent_avg = 0.3 * torch.randn(n_styles, 512, generator=generator)
    torch.save({"state_dict": state, "opts": opts, "latent_avg": latent_avg}, path)
    return opts


def load_official(official_dir: Path, opts: dict, path: Path) -> torch.nn.Module:
    """The official ``pSp`` module (CPU ops installed) loading the released-format file at ``path``."""
    from models.psp import pSp  # noqa: PLC0415

    return pSp(Namespace(**{**opts, "checkpoint_path": str(path)})).eval()


def import_official(official_dir: Path) -> None:
    sys.path.insert(0, str(official_dir.resolve()))
    install_cpu_ops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official-dir", required=True, type=Path)
    parser.add_argument("--output-size", type=int, default=1024, help="generator size (1024 = the released models)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import_official(args.official_dir)
    x = torch.randn(args.batch, 3, 256, 256, generator=torch.Generator().manual_seed(args.seed + 1)).clamp(-1, 1)

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "psp_random.pt"
        opts = write_random_release(args.output_size, src, args.seed)
        official = load_official(args.official_dir, opts, src)
        with torch.inference_mode():
            start = time.perf_counter()
            ref_image, ref_latents = official(x, resize=True, randomize_noise=False, return_latents=True)
            official_s = time.perf_counter() - start
        del official
        dst = ic.convert_checkpoint("psp", src, Path(tmp) / "psp_random.safetensors")
        ours = ic.load_model(dst)
        with torch.inference_mode():
            start = time.perf_counter()
            image, latents = ours(x)
            ours_s = time.perf_counter() - start

    image_diff = (image - ref_image).abs().max().item()
    latent_diff = (latents - ref_latents).abs().max().item()
    print(f"| quantity | value |\n|---|---|\n| generator size | {args.output_size} |\n| output shape | "
          f"{tuple(image.shape)} |\n| output range (official) | [{ref_image.min().item():.3f}, "
          f"{ref_image.max().item():.3f}] |\n| max abs diff, image | {image_diff:.3e} |\n| max abs diff, latents | "
          f"{latent_diff:.3e} |\n| official forward (s) | {official_s:.2f} |\n| ours forward (s) | {ours_s:.2f} |")
    ok = image_diff <= 1e-4 and latent_diff <= 1e-4
    print("PARITY OK" if ok else "PARITY FAILED (tolerance 1e-4)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
