"""Named training presets: the papers' runs, quick ``*-tiny`` checks and the bundled models' recipes.

``--preset NAME`` starts a run from one of :data:`PRESETS`; every field can then be changed on the command line
(:mod:`training.cli`). The schema is :mod:`training.schema`; its names are re-exported here for existing imports.
Add a preset by adding an entry to :data:`PRESETS` below.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .schema import (
    CheckpointConfig,
    DataConfig,
    EmaConfig,
    EvalConfig,
    HubConfig,
    LogConfig,
    MaskConfig,
    ModelConfig,
    OptimConfig,
    ScheduleConfig,
    TrainConfig,
    config_from_dict,
    config_to_dict,
)

__all__ = [
    "PRESETS", "CheckpointConfig", "DataConfig", "EmaConfig", "EvalConfig", "HubConfig", "LogConfig", "MaskConfig",
    "ModelConfig", "OptimConfig", "ScheduleConfig", "TrainConfig", "config_from_dict", "config_to_dict",
]


def _paper(
    preset: str, lr_g: float, lr_d: float, betas: tuple[float, float], batch: int, steps: int, **changes: Any
) -> TrainConfig:
    config = TrainConfig(
        steps=steps,
        batch_size=batch,
        model=ModelConfig(preset=preset),
        optim=OptimConfig(lr_g=lr_g, lr_d=lr_d, beta1=betas[0], beta2=betas[1]),
    )
    return replace(config, **changes)


#: Named presets: the papers' hyper-parameters for a full run, and ``*-tiny`` for quick checks.
#: Model presets are resolved when the run starts, so a preset of a family that is not installed fails only if used.
PRESETS: dict[str, TrainConfig] = {
    # CTSDG (official code): Adam default betas, lr G 2e-4, D 2e-5 (D2G_lr 0.1), batch 6 at 256, 300k iterations.
    "ctsdg": _paper("ctsdg.celebahq", 2e-4, 2e-5, (0.9, 0.999), 6, 300_000),
    # CTSDG fine-tuning stage: lr 5e-5 / 5e-6 and every BatchNorm frozen (the official freeze_ec_bn).
    "ctsdg-finetune": _paper("ctsdg.celebahq", 5e-5, 5e-6, (0.9, 0.999), 6, 150_000,
                             objective={"freeze_batchnorm": True}),
    # DeepFillv2 (official train.py): Adam lr 1e-4, betas (0.5, 0.999), batch 16 at 256.
    "deepfill": _paper("deepfill.places2", 1e-4, 1e-4, (0.5, 0.999), 16, 300_000),
    # Progressive (the poster): as DeepFillv2, stage-wise curriculum 1/4 -> 1/2 -> 1 then joint.
    "progressive": _paper(
        "progressive.places2-256",
        1e-4,
        1e-4,
        (0.5, 0.999),
        16,
        400_000,
        schedule=ScheduleConfig(stages="100000,100000,200000"),
    ),
    # MDRN (the paper's schedule): Adam lr 1e-4, betas (0.5, 0.999), batch 8 at 256, ~300k iterations.
    "mdrn": _paper("mdrn.celebahq", 1e-4, 1e-4, (0.5, 0.999), 8, 300_000),
    # ISFRNet: no published schedule; pSp's defaults (Ranger lr 1e-4) are approximated by Adam 1e-4.
    "isfrnet": _paper("isfrnet.full", 1e-4, 1e-4, (0.9, 0.999), 8, 300_000),
}
for _family in ("ctsdg", "deepfill", "progressive", "mdrn", "isfrnet"):
    PRESETS[f"{_family}-tiny"] = replace(
        PRESETS[_family],
        model=ModelConfig(preset=f"{_family}.tiny"),
        steps=200,
        batch_size=4,
        data=DataConfig(size=128 if _family == "ctsdg" else 64, num_workers=0),  # CTSDG: multiples of 128
        log=LogConfig(every=10, sample_every=100),
        checkpoint=CheckpointConfig(every=100),
        schedule=ScheduleConfig(stages="70,70,60" if _family == "progressive" else ""),
    )

#: Generated masks for the compact presets (the NVIDIA irregular masks are the evaluation set: never trained on).
COMPACT_MASKS = MaskConfig(mix="free_form=0.3,thick=0.3,medium=0.2,deepfill=0.2")


def _compact(preset: str, size: int, batch: int, steps: int, objective: dict[str, Any]) -> TrainConfig:
    """The bundled models' runs: reconstruction losses only, a cosine schedule, about an hour on one CPU core. Many
    small steps at a high rate: the zero-initialised correction of the residual presets starts slowly."""
    return TrainConfig(
        steps=steps,
        batch_size=batch,
        objective=objective,
        data=DataConfig(size=size, num_workers=0),
        mask=COMPACT_MASKS,
        model=ModelConfig(preset=preset),
        optim=OptimConfig(lr_g=6e-4, lr_d=6e-4, beta1=0.9, beta2=0.999, grad_clip=1.0),
        schedule=ScheduleConfig(lr_schedule="cosine", warmup_steps=100),
        ema=EmaConfig(decay=0.998, start_step=300, warmup=False),
        log=LogConfig(every=25, sample_every=500, tensorboard=False),
        checkpoint=CheckpointConfig(every=200, keep=2),
    )


PRESETS["deepfill-compact"] = _compact("deepfill.compact", 256, 2, 3400, {"adversarial": 0})
# CTSDG at 256 on one CPU thread: 15 s a step of batch 4, against 2.2 s for batch 8 at 128 (3.4x per pixel, from the
# contextual feature aggregation on a 128x128 grid): it trains at 128.
PRESETS["ctsdg-compact"] = _compact(
    "ctsdg.compact", 128, 4, 4400, {"perceptual": 0, "style": 0, "adversarial": 0}
)


def _zoomed(first: str, batch: int, steps: int) -> TrainConfig:
    """The second stage of a compact run: fine-tune the first stage's weights on 128x128 crops of the faces zoomed
    by 1-2x (UTKFace's 200-pixel faces at 0.64-1.28x their own resolution), so the network sees sharp detail and
    faces of several sizes, not only the upscaled tight crops of the first stage."""
    config = PRESETS[first]
    return replace(
        config,
        steps=steps,
        batch_size=batch,
        data=replace(config.data, size=128, scale_min=1.0, scale_max=2.0),
        model=ModelConfig(init_weights=f"runs/{first}/final/model.safetensors"),
        optim=replace(config.optim, lr_g=3e-4, lr_d=3e-4),
    )


PRESETS["deepfill-compact-zoom"] = _zoomed("deepfill-compact", 8, 4600)
PRESETS["ctsdg-compact-zoom"] = _zoomed("ctsdg-compact", 6, 3600)
# MDRN in one stage, on the second stage's zoomed crops from the start; InCo² reads the discriminator's features, so
# a run without a discriminator leaves it out too.
_MDRN_COMPACT = _compact("mdrn.compact", 128, 8, 4500, {"adversarial": 0, "inter": 0, "intra": 0})
PRESETS["mdrn-compact"] = replace(_MDRN_COMPACT, data=replace(_MDRN_COMPACT.data, scale_min=1.0, scale_max=2.0))

# The progressive network for scenes: the three stages one after the other (the poster's curriculum), each correcting
# the previous one's fill, on crops of the scene photos zoomed 1-2x; L1 only, without the (semantic) discriminator.
# Most steps go to the full-scale stage, which is also by far the most expensive (1/4 and 1/2 cost 1/16 and 1/4).
_PROGRESSIVE_COMPACT = _compact("progressive.compact", 128, 8, 2800, {"adversarial": 0, "semantic_net": "none"})
PRESETS["progressive-compact"] = replace(
    _PROGRESSIVE_COMPACT,
    data=replace(_PROGRESSIVE_COMPACT.data, scale_min=1.0, scale_max=2.0),
    schedule=replace(_PROGRESSIVE_COMPACT.schedule, stages="1000,1000,800", per_stage=True),
)
