"""MDRN: Memory-Disentangled Refinement Networks for face inpainting (Wu et al. 2022, *ShowFace*, arXiv 2204.02824).

**This is a reconstruction.** Only the abstract and the poster of the paper are public and no code was released.

What follows the paper (abstract / poster):

- a coarse-to-fine network: a coarse network, then a guided refinement network that receives fused features;
- a *Disentangled Memory Module* (DMM): a group of memory blocks that store semantic-decoupled face representations
  and give each position the most relevant of them;
- a *Mask-Region Enhanced Module* (MREM): *masked correlation mining* that strengthens the feature relationships into
  the corrupted region and fuses the memory features (making up for the correlation that per-block memories lose);
- the InCo² loss (in ``training.objectives.mdrn``): inter-coordination between corrupted and known regions and
  intra-coordination inside the corrupted region, both similarity based.

What is ours (every unknown is a field of :class:`MDRNConfig`, with its default and the reason for it):

- coarse network: a small gated-conv encoder / dilated bottleneck / decoder in the spirit of DeepFillv2's stage 1;
- refinement network: gated-conv U-Net, input = the masked image with the coarse fill pasted into the hole, plus the
  mask; DMM and MREM sit on the encoder feature at ``memory_level`` (the 1/8 bottleneck by default), in parallel:
  ``F <- F + g_m * W_m[F; r] + g_r * hole * W_r[a; r]`` with ``r`` the memory read, ``a`` the masked correlation
  read and ``g_m``, ``g_r`` learned scalars that start at 0 (the network starts as a plain U-Net); then residual
  blocks and a decoder with skip connections;
- memory read: per position a query (1x1 conv, L2-normalised); in each block, softmax over its items of cosine
  similarity / ``memory_temperature``; a softmax gate over blocks mixes the per-block reads. The read is therefore a
  convex combination of the (L2-normalised) items of all blocks;
- memory training: the items are parameters trained by back-propagation (default), or buffers moved towards the
  queries assigned to them by an exponential moving average (``memory_update="ema"``, VQ-VAE / MNAD style);
- masked correlation: cosine similarity of projected features / ``correlation_temperature``; only hole positions
  query, and they attend to known positions only (``hole_key_weight=0``), as contextual attention does;
- the ``compact`` preset (our bundled-size faces model, not the paper's) sees OpenCV's Telea fill under the hole
  (``prefill="telea"``) and learns a correction of it (``residual=True``), as the compact DeepFill and CTSDG do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..catalog import SCENES_LICENSE, SCENES_TRAIN, UTKFACE_LICENSE, UTKFACE_TRAIN, WeightsEntry, register_weights
from ..layers.gated_conv import GatedConv2d, GatedDeconv2d
from ..registry import Family, register_family
from .base import InpaintModel
from .prefill import PREFILLS, boundary_ramp, residual_output, telea_prefill

_MEMORY_UPDATES = ("backprop", "ema")


@dataclass(frozen=True)
class MDRNConfig:
    #: Width of the coarse network: DeepFillv2 stage 1 (cnum 48 conv outputs = 24 features + 24 gates; paper: none).
    coarse_channels: int = 24
    #: Dilations of the coarse bottleneck (DeepFillv2's stage 1): a receptive field that covers 256-pixel faces.
    coarse_dilations: tuple[int, ...] = (2, 4, 8, 16)
    #: Width of the refinement network at full resolution; doubled at each downsampling.
    refine_channels: int = 64
    #: Cap on the refinement widths (512 at the 1/8 bottleneck, as pix2pix-style U-Nets).
    max_channels: int = 512
    #: Stride-2 downsamplings of the refinement encoder: 3 gives a 32x32 bottleneck at 256 (1024 tokens to attend).
    refine_depth: int = 3
    #: Residual blocks at the bottleneck, after the fusion, so that the refinement network works on fused features.
    residual_blocks: int = 4
    #: Dilation of the residual blocks (widens the receptive field at 32x32 without more downsampling).
    residual_dilation: int = 2
    #: Encoder level (number of downsamplings) at which DMM and MREM sit; the bottleneck, where features are semantic.
    memory_level: int = 3
    #: Memory blocks: 7 facial groups (skin, brows, eyes, nose, mouth, hair, background) of CelebAMask-HQ parsing.
    memory_blocks: int = 7
    #: Items per block (a few prototypes per part, as MNAD's 10; 32 leaves room for poses and identities).
    memory_items: int = 32
    #: Size of an item and of the query (MNAD uses the 512-channel bottleneck).
    memory_dim: int = 512
    #: Softmax temperature of the read over cosine similarities (0.1: a few items dominate, as in MNAD and memory VAE).
    memory_temperature: float = 0.1
    #: How the items are trained: "backprop" (parameters) or "ema" (moving average of the assigned queries).
    memory_update: str = "backprop"
    #: Momentum of the "ema" update (VQ-VAE's 0.99); unused with "backprop".
    memory_momentum: float = 0.99
    #: Width of the query and key projections of the masked correlation (128: cheap, as DeepFill's attention patches).
    correlation_dim: int = 128
    #: Softmax temperature of the correlation over cosine similarities (DeepFill's contextual attention uses 1/10).
    correlation_temperature: float = 0.1
    #: Weight of hole keys relative to known keys (0: hole queries read the known region only; the coarse fill in the
    #: hole is unreliable, and known context is what the fill must coordinate with).
    hole_key_weight: float = 0.0
    #: Queries per attention chunk; bounds the memory of the correlation map at large inputs (linear, not quadratic).
    correlation_chunk: int = 4096
    #: What both networks see under the hole: ``"zeros"`` (the masked image) or ``"telea"`` (OpenCV's fill). Ours.
    prefill: str = "zeros"
    #: Each network outputs its input plus its last layer's output inside the hole (that layer zero-initialised, so
    #: a fresh model returns the pre-fill) instead of ``tanh`` of it: it learns a correction of the pre-fill. Ours.
    residual: bool = False
    #: With ``residual``: the correction fades in over this many pixels from the hole's edge (0 = no fade).
    residual_ramp: float = 0.0

    def __post_init__(self) -> None:
        if self.prefill not in PREFILLS:
            raise ValueError(f"prefill must be one of {PREFILLS}, got {self.prefill!r}")
        if self.memory_update not in _MEMORY_UPDATES:
            raise ValueError(f"memory_update must be one of {_MEMORY_UPDATES}, got {self.memory_update!r}")
        if not 0 <= self.memory_level <= self.refine_depth:
            raise ValueError(f"memory_level must be in [0, refine_depth={self.refine_depth}], got {self.memory_level}")
        if not 0 <= self.hole_key_weight <= 1:
            raise ValueError(f"hole_key_weight must be in [0, 1], got {self.hole_key_weight}")
        if min(self.memory_blocks, self.memory_items, self.memory_dim, self.correlation_dim) < 1:
            raise ValueError("memory and correlation sizes must be positive")
        if self.coarse_channels < 2 or self.refine_depth < 1:
            raise ValueError("coarse_channels must be >= 2 and refine_depth >= 1")


#: MDRN's gated convolutions: leaky ReLU 0.2, symmetric padding, He initialisation with the feature half doubled
#: (PyTorch's default init shrinks the activations about 3x per layer here).
_GATED = {"activation": "leaky_relu", "padding": "same", "init": "leaky_gated", "always_gated": True}


def gated_conv(cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1) -> GatedConv2d:
    """A gated convolution (Yu et al. 2019) ``leaky_relu(features) * sigmoid(gate)``."""
    return GatedConv2d(cin, cout, kernel, stride, dilation, **_GATED)


def up_gated_conv(cin: int, cout: int) -> GatedDeconv2d:
    """Nearest-neighbour x2 upsampling followed by a 3x3 gated convolution."""
    return GatedDeconv2d(cin, cout, **_GATED)


class CoarseNetwork(nn.Module):
    """Gated-conv encoder (1/4), dilated bottleneck, decoder; input ``[masked image, ones, hole]`` in [-1, 1]."""

    def __init__(self, config: MDRNConfig) -> None:
        super().__init__()
        c = config.coarse_channels
        layers = [gated_conv(5, c, 5), gated_conv(c, 2 * c, 3, 2), gated_conv(2 * c, 2 * c),
                  gated_conv(2 * c, 4 * c, 3, 2), gated_conv(4 * c, 4 * c)]
        layers += [gated_conv(4 * c, 4 * c, dilation=d) for d in config.coarse_dilations]
        layers += [gated_conv(4 * c, 4 * c), up_gated_conv(4 * c, 2 * c), gated_conv(2 * c, 2 * c),
                   up_gated_conv(2 * c, c), gated_conv(c, c // 2)]
        self.body = nn.Sequential(*layers)
        self.to_rgb = nn.Conv2d(c // 2, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's output (before ``tanh`` or the residual sum, which :class:`MDRN` applies)."""
        return self.to_rgb(self.body(x))


class DisentangledMemory(nn.Module):
    """The DMM: ``blocks`` memory blocks of ``items`` items each, read per position and mixed by a block gate."""

    def __init__(self, channels: int, config: MDRNConfig) -> None:
        super().__init__()
        self.temperature = config.memory_temperature
        self.update, self.momentum = config.memory_update, config.memory_momentum
        self.query = nn.Conv2d(channels, config.memory_dim, 1)
        self.gate = nn.Linear(config.memory_dim, config.memory_blocks)
        items = F.normalize(torch.randn(config.memory_blocks, config.memory_items, config.memory_dim), dim=-1)
        if self.update == "backprop":
            self.items = nn.Parameter(items)
        else:
            self.register_buffer("items", items)

    def normalized_items(self) -> torch.Tensor:
        """The items ``[blocks, items, dim]``, L2-normalised (what the read combines)."""
        return F.normalize(self.items, dim=-1)

    def address(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Block gate ``[B, N, blocks]`` and per-block weights ``[B, N, blocks, items]`` of queries ``[B, N, dim]``.

        Both are softmaxes, so ``gate[..., k, None] * weights`` are the weights of a convex combination of all items.
        """
        scores = torch.einsum("bnd,kid->bnki", query, self.normalized_items()) / self.temperature
        return self.gate(query).softmax(-1), scores.softmax(-1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Memory read ``[B, dim, h, w]`` for features ``[B, C, h, w]``, and the query and gate for the losses."""
        batch, _, height, width = features.shape
        query = F.normalize(self.query(features).flatten(2).transpose(1, 2), dim=-1)
        gate, weights = self.address(query)
        read = torch.einsum("bnk,bnki,kid->bnd", gate, weights, self.normalized_items())
        if self.update == "ema" and self.training:
            self._ema_update(query.detach(), gate.detach(), weights.detach())
        read = read.transpose(1, 2).reshape(batch, -1, height, width)
        return read, {"memory_query": query, "memory_gate": gate}

    @torch.no_grad()
    def _ema_update(self, query: torch.Tensor, gate: torch.Tensor, weights: torch.Tensor) -> None:
        """Move each item towards the mean of the queries whose gated block and nearest item it is."""
        blocks, items, dim = self.items.shape
        block = gate.argmax(-1)  # [B, N]
        item = weights.gather(2, block[..., None, None].expand(-1, -1, 1, items)).squeeze(2).argmax(-1)
        slot = (block * items + item).flatten()
        sums = query.new_zeros(blocks * items, dim).index_add_(0, slot, query.reshape(-1, dim))
        counts = query.new_zeros(blocks * items).index_add_(0, slot, torch.ones_like(slot, dtype=query.dtype))
        old = self.items.reshape(blocks * items, dim)
        mean = sums / counts.clamp_min(1)[:, None]
        moved = F.normalize(self.momentum * old + (1 - self.momentum) * mean, dim=-1)
        self.items = torch.where(counts[:, None] > 0, moved, old).reshape(blocks, items, dim)


class MaskRegionEnhance(nn.Module):
    """The MREM: masked correlation mining from hole positions to the positions the mask allows, fused with memory."""

    def __init__(self, channels: int, config: MDRNConfig) -> None:
        super().__init__()
        self.temperature, self.hole_key_weight = config.correlation_temperature, config.hole_key_weight
        self.chunk = config.correlation_chunk
        self.query = nn.Conv2d(channels, config.correlation_dim, 1)
        self.key = nn.Conv2d(channels, config.correlation_dim, 1)
        self.fuse = nn.Conv2d(channels + config.memory_dim, channels, 1)

    def correlation(self, features: torch.Tensor, hole: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Correlation read ``[B, C, h, w]`` and map ``[B, N, N]`` (query, key) of features at a hole ``[B, 1, h, w]``.

        Rows of hole positions are softmax weights over the allowed keys (known positions; hole positions too, scaled
        by ``hole_key_weight``, when it is positive) and sum to 1; rows of known positions are 0, as is a row with no
        allowed key at all. Features at positions that are neither the query nor an allowed key are never read.
        """
        batch, channels, height, width = features.shape
        query = F.normalize(self.query(features).flatten(2), dim=1).transpose(1, 2)  # [B, N, d]
        key = F.normalize(self.key(features).flatten(2), dim=1)  # [B, d, N]
        value = features.flatten(2).transpose(1, 2)  # [B, N, C]
        in_hole = hole.flatten(1) > 0  # [B, N]
        key_weight = torch.where(in_hole, self.hole_key_weight, 1.0).to(features.dtype)
        allowed = (key_weight > 0)[:, None, :]
        maps = []
        for start in range(0, query.shape[1], self.chunk):
            logits = (query[:, start : start + self.chunk] @ key) / self.temperature
            weights = logits.masked_fill(~allowed, torch.finfo(logits.dtype).min).softmax(-1) * key_weight[:, None]
            weights = weights / weights.sum(-1, keepdim=True).clamp_min(1e-12)
            maps.append(weights * in_hole[:, start : start + self.chunk, None])
        correlation = torch.cat(maps, dim=1)
        read = (correlation @ value).transpose(1, 2).reshape(batch, channels, height, width)
        return read, correlation

    def read(self, features: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The correlation read of :meth:`correlation` without its ``N x N`` map: per image, only the hole positions
        query and only the allowed keys are scored, by fused scaled-dot-product attention in chunks of
        ``correlation_chunk`` queries. The key weight enters as ``log(weight)`` in the logits, which equals the
        weighted, renormalised softmax."""
        batch, channels, height, width = features.shape
        query = F.normalize(self.query(features).flatten(2), dim=1).transpose(1, 2)  # [B, N, d]
        key = F.normalize(self.key(features).flatten(2), dim=1).transpose(1, 2)  # [B, N, d]
        value = features.flatten(2).transpose(1, 2)  # [B, N, C]
        in_hole = hole.flatten(1) > 0  # [B, N]
        read = features.new_zeros(batch, height * width, channels)
        for index in range(batch):
            queries = in_hole[index].nonzero()[:, 0]
            keys = (~in_hole[index] if self.hole_key_weight == 0 else torch.ones_like(in_hole[index])).nonzero()[:, 0]
            if not len(queries) or not len(keys):
                continue
            bias = None
            if self.hole_key_weight not in (0, 1):
                weight = torch.where(in_hole[index, keys], self.hole_key_weight, 1.0)
                bias = weight.log().to(features.dtype)
            k, v = key[index, keys][None], value[index, keys][None]
            for start in range(0, len(queries), self.chunk):
                rows = queries[start : start + self.chunk]
                read[index, rows] = F.scaled_dot_product_attention(
                    query[index, rows][None], k, v, attn_mask=bias, scale=1 / self.temperature
                )[0]
        return read.transpose(1, 2).reshape(batch, channels, height, width)

    def forward(self, features: torch.Tensor, memory: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The enhancement ``hole * W[a; r]`` (0 at known positions) for features, memory read and hole."""
        return hole * self.fuse(torch.cat([self.read(features, hole), memory], dim=1))


class MemoryFusion(nn.Module):
    """DMM and MREM side by side on one feature map: ``F + g_m W_m[F; r] + g_r MREM(F, r, hole)``."""

    def __init__(self, channels: int, config: MDRNConfig) -> None:
        super().__init__()
        self.memory = DisentangledMemory(channels, config)
        self.memory_out = nn.Conv2d(channels + config.memory_dim, channels, 1)
        self.enhance = MaskRegionEnhance(channels, config)
        self.memory_scale = nn.Parameter(torch.zeros(()))
        self.enhance_scale = nn.Parameter(torch.zeros(()))

    def forward(self, features: torch.Tensor, hole: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        read, aux = self.memory(features)
        memory_term = self.memory_out(torch.cat([features, read], dim=1))
        enhance_term = self.enhance(features, read, hole)
        return features + self.memory_scale * memory_term + self.enhance_scale * enhance_term, aux


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.2))


class RefinementNetwork(nn.Module):
    """Guided refinement U-Net with the memory fusion on one encoder level; input ``[guided image, hole]``."""

    def __init__(self, config: MDRNConfig) -> None:
        super().__init__()
        widths = [min(config.refine_channels * 2**i, config.max_channels) for i in range(config.refine_depth + 1)]
        self.memory_level = config.memory_level
        self.stem = gated_conv(4, widths[0], 7)
        self.down = nn.ModuleList(gated_conv(widths[i], widths[i + 1], 4, 2) for i in range(config.refine_depth))
        self.fusion = MemoryFusion(widths[config.memory_level], config)
        self.middle = nn.Sequential(*(ResidualBlock(widths[-1], config.residual_dilation)
                                      for _ in range(config.residual_blocks)))
        self.up = nn.ModuleList(up_gated_conv(widths[i + 1], widths[i]) for i in reversed(range(config.refine_depth)))
        self.merge = nn.ModuleList(gated_conv(2 * widths[i], widths[i]) for i in reversed(range(config.refine_depth)))
        self.to_rgb = nn.Conv2d(widths[0], 3, 3, padding=1)

    def forward(self, x: torch.Tensor, hole: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The last layer's output (before ``tanh`` or the residual sum) and the memory's query and gate."""
        skips, aux = [], {}
        x = self.stem(x)
        for level in range(len(self.down) + 1):
            if level == self.memory_level:
                cell = 2**level  # a position is a hole if any pixel of its cell is one
                x, aux = self.fusion(x, F.max_pool2d(hole, cell) if cell > 1 else hole)
            if level < len(self.down):
                skips.append(x)
                x = self.down[level](x)
        x = self.middle(x)
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([up(x), skips.pop()], dim=1))
        return self.to_rgb(x), aux


class MDRN(InpaintModel):
    """MDRN-style face inpainting (reconstruction from the ShowFace abstract): coarse net, then guided refinement."""

    family = "mdrn"
    compile_modules = ("coarse", "refine")
    size_multiple = 8  # for the default refine_depth of 3; set per instance from the config
    working_size = 256
    aligned_faces = True
    extra_outputs = ("coarse",)

    def __init__(self, config: MDRNConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.coarse = CoarseNetwork(config)
        self.refine = RefinementNetwork(config)
        # the coarse net halves twice, the refinement net refine_depth times
        self.size_multiple = 2 ** max(2, config.refine_depth)
        if config.residual:
            for last in (self.coarse.to_rgb, self.refine.to_rgb):
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)

    def memory_items(self) -> torch.Tensor:
        """The DMM's items ``[blocks, items, dim]``, L2-normalised."""
        return self.refine.fusion.memory.normalized_items()

    def forward_train(self, image: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything the objective needs: ``image`` and ``coarse`` in [0, 1], the memory queries and block gates."""
        masked = (image * 2 - 1) * (1 - hole)
        if self.config.prefill == "telea":
            masked = telea_prefill(masked, hole)
        weight = boundary_ramp(hole, self.config.residual_ramp) if self.config.residual else None
        coarse = residual_output(self.coarse(torch.cat([masked, torch.ones_like(hole), hole], dim=1)), masked, weight)
        guided = torch.lerp(masked, coarse, hole)
        refined, aux = self.refine(torch.cat([guided, hole], dim=1), hole)
        return {"image": (residual_output(refined, guided, weight) + 1) / 2, "coarse": (coarse + 1) / 2, **aux}

    def predict_outputs(self, image, hole, generator=None):
        outputs = self.forward_train(image, hole)
        return {"image": outputs["image"].clamp(0, 1), "coarse": outputs["coarse"].clamp(0, 1)}


PRESETS = {
    "celebahq": MDRNConfig(),
    "tiny": MDRNConfig(coarse_channels=8, coarse_dilations=(2, 4), refine_channels=8, max_channels=32, refine_depth=3,
                       residual_blocks=1, memory_blocks=3, memory_items=4, memory_dim=16, correlation_dim=8),
    # Our bundled-size faces model: a correction of OpenCV's Telea fill, all seven memory blocks, narrow widths.
    "compact": MDRNConfig(coarse_channels=16, refine_channels=16, max_channels=64, residual_blocks=2, memory_items=8,
                          memory_dim=64, correlation_dim=32, prefill="telea", residual=True),
}



register_family(
    Family(
        name="mdrn",
        config_cls=MDRNConfig,
        model_cls=MDRN,
        presets=PRESETS,
        description="MDRN-style face inpainting (reconstruction from the ShowFace abstract; no official weights)",
    )
)

register_weights(
    WeightsEntry(
        name="mdrn-compact-utkface",
        family="mdrn",
        preset="compact",
        license=UTKFACE_LICENSE,
        data=UTKFACE_TRAIN,
        description="MDRN-style face network at bundled size, correcting a Telea pre-fill; trained here on a CPU, "
        "1.2 h on 128x128 crops then 1.1 h at 256x256 (model card: inpaint_core/weights/mdrn-compact-utkface.md). "
        "The best bundled network on faces, and the default of the nodes and the app.",
        bundled="mdrn-compact-utkface.safetensors",
        sha256="121699e5806440114724ade66220d67f1ffc7a716ff0ecdd29da13dc14f76e5c",
        subject="face",
    )
)

register_weights(
    WeightsEntry(
        name="mdrn-compact-scenes",
        family="mdrn",
        preset="compact",
        # fine-tuned from the UTKFace weights, so both data sets' terms apply
        license=f"{SCENES_LICENSE}; fine-tuned from mdrn-compact-utkface, so also {UTKFACE_LICENSE}",
        data=f"{SCENES_TRAIN}, after {UTKFACE_TRAIN}",
        description="MDRN-style network at bundled size, correcting a Telea pre-fill: mdrn-compact-utkface "
        "(its first, 128-pixel version) fine-tuned here for 0.55 h on a CPU on scene photos (model card: "
        "inpaint_core/weights/mdrn-compact-scenes.md). The best bundled network on scenes, and what 'auto' runs "
        "offline for anything but faces.",
        bundled="mdrn-compact-scenes.safetensors",
        sha256="08b2565db4f154cd9534d4ad35df36fceeaf5e8576d4612d439ac5d1bdcd7d19",
        subject="scene",
    )
)
