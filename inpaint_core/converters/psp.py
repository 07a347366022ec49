"""Converter of released pSp checkpoints (``psp_ffhq_encode.pt`` and siblings) to the ``psp`` family.

The release is ``{'state_dict', 'opts', 'latent_avg'}``: ``state_dict`` holds ``encoder.*`` and ``decoder.*`` (792
entries for the FFHQ model, BN running stats, noise buffers and blur kernels included), ``opts`` the training options
as a dict of plain values, and ``latent_avg`` the ``[n_styles, 512]`` average code, which we keep as a buffer.
It is read with ``torch.load(weights_only=True)``: the file holds only tensors, an OrderedDict and plain values.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..models.psp import PRESETS, PSPConfig

#: Generator widths of rosinality's StyleGAN2 with channel multiplier 2, per resolution 4, 8, ..., 1024.
_STYLEGAN2_CHANNELS = (512, 512, 512, 512, 512, 256, 128, 64, 32)


def load_psp_release(src: str | Path) -> dict[str, Any]:
    """The released file as a dict, loaded safely; a clear error when it is not a pSp checkpoint."""
    try:
        checkpoint = torch.load(src, map_location="cpu", weights_only=True)  # noqa: TID251
    except Exception as error:  # noqa: BLE001 - any unpickling failure means: not a checkpoint we can read safely
        raise WeightsError(f"{src} is not a pSp checkpoint that loads with weights_only=True ({error})") from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise WeightsError(f"{src} is not a pSp checkpoint: expected a dict with 'state_dict', 'opts', 'latent_avg'")
    return checkpoint


def config_from_opts(opts: dict[str, Any], **overrides: Any) -> PSPConfig:
    """Our config for the options a pSp model was trained with (absent keys take the release defaults)."""
    encoder = opts.get("encoder_type", "GradualStyleEncoder")
    if encoder != "GradualStyleEncoder":
        raise WeightsError(f"encoder_type={encoder!r} is not supported (only GradualStyleEncoder)")
    if opts.get("learn_in_w", False):
        raise WeightsError("pSp checkpoints trained with learn_in_w=True are not supported")
    size = int(opts.get("output_size", 1024))
    values = {
        "in_channels": int(opts.get("input_nc", 3)),
        "generator_size": size,
        "generator_channels": _STYLEGAN2_CHANNELS[: int(math.log2(size)) - 1],
        "start_from_latent_avg": bool(opts.get("start_from_latent_avg", True)),
    }
    return dataclasses.replace(PRESETS["ffhq"], **{**values, **overrides})


def convert_psp_checkpoint(src: str | Path, **overrides: Any) -> tuple[dict[str, torch.Tensor], PSPConfig]:
    """``(state_dict, config)`` of ours for a released pSp file; keys map one to one (checked strictly on load)."""
    checkpoint = load_psp_release(src)
    opts = checkpoint.get("opts") or {}
    if not isinstance(opts, dict):
        raise WeightsError(f"{src}: 'opts' is a {type(opts).__name__}, expected a dict")
    config = config_from_opts(opts, **overrides)
    state = dict(checkpoint["state_dict"])
    stray = sorted(k for k in state if not k.startswith(("encoder.", "decoder.")))
    if stray:
        raise WeightsError(f"{src}: unexpected keys outside encoder./decoder.: {stray[:5]}")
    latent_avg = checkpoint.get("latent_avg")
    if latent_avg is None:
        if config.start_from_latent_avg:
            raise WeightsError(f"{src} has no latent_avg but was trained with start_from_latent_avg")
        latent_avg = torch.zeros(config.n_styles, config.style_dim)
    state["latent_avg"] = latent_avg.float().reshape(config.n_styles, config.style_dim)
    return state, config

