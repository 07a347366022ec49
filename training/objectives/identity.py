"""Identity loss: 1 - cosine similarity of ArcFace IR-SE-50 embeddings (TreB1eN/InsightFace_Pytorch), on the central
face crop, as pSp's ``IDLoss`` does (rows 35:223, columns 32:220 of a 256 face, pooled to 112).

The weights are not bundled (a face-recognition model with its own terms): pass a safetensors file with TreB1eN's keys
(``input_layer.*``, ``body.*``, ``output_layer.*``): e.g. ``model_ir_se50.pth`` loaded with
``torch.load(weights_only=True)``, its ``module.`` prefixes removed, saved with ``safetensors.torch.save_file``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_core.hub import resolve_weights
from inpaint_core.layers.irse import input_layer, ir_se_body
from inpaint_core.weights import load_state_dict_strict

#: pSp's crop of a 256 face, as fractions of the side: rows 35:223, columns 32:220.
_CROP = (35 / 256, 223 / 256, 32 / 256, 220 / 256)


class ArcFaceIRSE50(nn.Module):
    """IR-SE-50 backbone with the 512-d embedding head (input 112x112 in [-1, 1]); embeddings are L2-normalised."""

    def __init__(self) -> None:
        super().__init__()
        self.input_layer = input_layer(3)
        self.body = ir_se_body()
        self.output_layer = nn.Sequential(nn.BatchNorm2d(512), nn.Dropout(0.6), nn.Flatten(),
                                          nn.Linear(512 * 7 * 7, 512), nn.BatchNorm1d(512, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.output_layer(self.body(self.input_layer(x))), dim=1)


class IdentityLoss(nn.Module):
    """Frozen ArcFace; ``forward(output, target)`` with images in [0, 1] returns the mean ``1 - cos``."""

    def __init__(self, weights: str | Path) -> None:
        super().__init__()
        from safetensors.torch import load_file

        self.net = ArcFaceIRSE50()
        load_state_dict_strict(self.net, load_file(str(resolve_weights(weights))), source=str(weights))
        self.net.requires_grad_(False)
        self.net.eval()

    def train(self, mode: bool = True) -> IdentityLoss:
        return super().train(False)

    def embed(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2:]
        top, bottom, left, right = (round(f * s) for f, s in zip(_CROP, (height, height, width, width)))
        face = F.adaptive_avg_pool2d(image[:, :, top:bottom, left:right] * 2 - 1, 112)
        return self.net(face)

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            reference = self.embed(target)
        return (1 - (self.embed(output) * reference).sum(dim=1)).mean()
