"""Converter of DeepFillv2 checkpoints in the layout of nipponjo/deepfillv2-pytorch's ``networks_tf.py``.

That port's files (``states_tf_places2.pth``, ``states_tf_celebahq.pth``: the official TF weights converted) hold
``{'G': state_dict}`` with 84 keys named after the TF layers (``conv1.conv.weight``,
``conv13_upsample.conv.conv.bias``, ``xconv1...``, ``pmconv...``, ``allconv...``). Ours nest the same tensors under
``generator.coarse.`` (``conv*``) and ``generator.refine.`` (everything else); shapes are unchanged.
The port's refactored ``networks.py`` layout
(``stage1.conv1.conv.weight``, ...) and its fine-tuned weights are a different network and are refused.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..models.deepfill import PRESETS, DeepFillConfig

#: Number of tensors in the port's generator state dict.
PORT_KEYS = 84


def port_key_to_ours(key: str) -> str:
    """``conv5.conv.weight`` -> ``generator.coarse.conv5.conv.weight``; ``xconv1.*`` -> ``generator.refine.*``."""
    stage = "coarse" if key.startswith("conv") else "refine"
    return f"generator.{stage}.{key}"


def convert_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The port's generator state dict in our key layout (a plain rename)."""
    if any(key.startswith("stage1.") for key in state):
        raise WeightsError(
            "this checkpoint is in the layout of nipponjo's refactored networks.py (states_pt_*.pth): only the "
            "TF-layout files (states_tf_places2.pth, states_tf_celebahq.pth) are supported"
        )
    if len(state) != PORT_KEYS:
        raise WeightsError(f"expected the {PORT_KEYS} tensors of DeepFillv2's generator, found {len(state)}")
    return {port_key_to_ours(key): value.float() for key, value in state.items()}


def convert_deepfill(path: str | Path, **overrides: Any) -> tuple[dict[str, torch.Tensor], DeepFillConfig]:
    """``(state_dict, config)`` from a port checkpoint file; ``overrides`` set config fields (``attention_fuse``)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # noqa: TID251
    if not isinstance(checkpoint, dict):
        raise WeightsError(f"{path} is not a DeepFillv2 checkpoint (a dict with the generator under 'G')")
    state = checkpoint.get("G", checkpoint)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: 'G' is not a state dict")
    return convert_state_dict(state), replace(PRESETS["places2"], **overrides)
