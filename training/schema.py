"""The schema of a training run: one typed dataclass per section, each field with its default and its help text.

A run is :class:`TrainConfig`: nested sections (``data``, ``mask``, ``model``, ``optim``, ``schedule``, ``ema``,
``log``, ``checkpoint``, ``eval``, ``hub``) plus a few top-level fields. The help of a field is its
``metadata["help"]`` (what ``--help`` prints, :mod:`training.cli`); named presets are in :mod:`training.config`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any


def option(default: Any, help: str) -> Any:  # noqa: A002 (argparse's word)
    """A dataclass field with a default and the help text ``--help`` prints for it."""
    return field(default=default, metadata={"help": help})


@dataclass
class DataConfig:
    root: str = option("", "Folder of training images (searched recursively for .png/.jpg/.jpeg/.webp/.bmp).")
    file_list: str = option(
        "",
        "Optional text file of image paths relative to ``root`` (one per line), e.g. a split's ``train.txt``.",
    )
    size: int = option(
        256,
        "Side of the square training crops; the image is resized so its shorter side is ``size`` then "
        "cropped.",
    )
    crop: str = option("random", 'Crop position: "random" (training) or "center".')
    scale_min: float = option(
        1.0,
        "Random zoom for random crops (smallest factor): the shorter side is resized to ``size`` times a "
        "factor drawn uniformly from [scale_min, scale_max] (both >= 1), so the crops show the images at "
        "several scales. 1, 1: no zoom.",
    )
    scale_max: float = option(1.0, "Largest zoom factor of the random zoom (see ``scale_min``).")
    flip: bool = option(True, "Flip images left-right with probability 0.5.")
    num_workers: int = option(2, "DataLoader worker processes (0 = load in the training process).")


@dataclass
class MaskConfig:
    mix: str = option(
        "free_form=0.3,thick=0.3,medium=0.2,deepfill=0.2",
        "Mix of mask sources, ``name=weight`` separated by commas. Names: the generators of "
        "``inpaint_core.masks.generators`` and ``files`` (masks read from ``folder``).",
    )
    folder: str = option(
        "",
        "Folder of mask images for ``files``: your own training masks, never the ones you evaluate with (the NVIDIA "
        "irregular masks of the protocol are a test set).",
    )
    file_list: str = option("", "Optional text file of mask file names inside ``folder``.")
    invert: bool = option(False, "Mask files are white = hole; set to read black = hole.")
    augment: bool = option(True, "Randomly flip and rotate (multiples of 90 degrees) file masks.")


@dataclass
class ModelConfig:
    preset: str = option(
        "",
        "The network to train: a preset ``family.preset`` (fresh weights); set this or ``init_weights``.",
    )
    init_weights: str = option(
        "",
        "Weights to fine-tune instead: a file, a catalog name or a Hub repo id (``inpaint_core.load_model``).",
    )
    imports: str = option(
        "",
        "Modules to import before building the model, comma separated (to register a family of your own).",
    )


@dataclass
class OptimConfig:
    lr_g: float = option(1e-4, "Learning rate of the generator.")
    lr_d: float = option(1e-4, "Learning rate of the discriminator.")
    beta1: float = option(0.5, "Adam's first beta.")
    beta2: float = option(0.999, "Adam's second beta.")
    weight_decay: float = option(0.0, "Adam's weight decay.")
    grad_clip: float = option(0.0, "Clip the gradient norm of each network to this value (0 = no clipping).")


@dataclass
class ScheduleConfig:
    lr_schedule: str = option(
        "constant",
        'Learning-rate schedule after warm-up: "constant", "linear" (to 0 at the last step) or "cosine".',
    )
    warmup_steps: int = option(0, "Steps of linear learning-rate warm-up from 0 before the schedule.")
    stages: str = option(
        "",
        'Progressive training: steps of each stage, comma separated (e.g. "100000,100000,200000"); stage k '
        'trains the parameters the objective returns for ``objective.stage = k`` and freezes the rest. Empty '
        '= one stage.',
    )
    per_stage: bool = option(
        False,
        "With ``stages``: the warm-up and the decay restart at the first step of every stage (each stage trains "
        "other parameters, so each gets a whole schedule); otherwise they span the whole run.",
    )


@dataclass
class EmaConfig:
    decay: float = option(0.999, "Keep an exponential moving average of the generator's weights (0 disables it).")
    start_step: int = option(0, "Start averaging after this many steps (copy the weights until then).")
    warmup: bool = option(
        True,
        "Cap the decay ``n`` steps after ``start_step`` at ``(1 + n) / (10 + n)``, so that a short run's average is "
        "of its trained weights, not its initial ones (the bundled models' presets were trained without it).",
    )


@dataclass
class LogConfig:
    every: int = option(50, "Write scalars to TensorBoard (``<output_dir>/logs``) every this many steps.")
    sample_every: int = option(
        500,
        "Save a sample grid PNG (rows: input | output | ground truth) every this many steps (0 = never).",
    )
    samples: int = option(4, "Images in a sample grid.")
    tensorboard: bool = option(True, "Use TensorBoard (otherwise logs go to ``log.jsonl`` only).")


@dataclass
class CheckpointConfig:
    every: int = option(1000, "Save a resumable checkpoint every this many steps (0 = only at the end).")
    keep: int = option(3, "Keep the newest this many checkpoints.")


@dataclass
class EvalConfig:
    every: int = option(
        0,
        "Evaluate the EMA generator every this many steps (0 = never; needs ``images`` and ``masks``).",
    )
    images: str = option("", "Image folder and optional file list to evaluate on (never the training split).")
    file_list: str = option("", "Optional text file of image paths relative to ``images``.")
    masks: str = option("", "Mask folder (white = hole), e.g. the NVIDIA irregular test masks.")
    per_bucket: int = option(50, "Images per hole-ratio bucket.")
    buckets: str = option(
        "20",
        'Bucket widths in percent, comma separated: "20" gives 0-20/20-40/40-60, "10" gives 10 % steps.',
    )


@dataclass
class HubConfig:
    push_to_hub: str = option(
        "",
        "Upload the final weights, config.json and a model card to this Hub repo id (``owner/name``) when "
        "done.",
    )
    private: bool = option(False, "Make the Hub repo private.")
    license: str = option(
        "",
        "Licence of the weights in the model card (a Hub licence id). Empty: the terms of the training data when it "
        "is a known set (UTKFace, CelebA, Places: research use only), else \"other\" with a note to state them.",
    )
    data_description: str = option("", "A sentence about the training data for the model card.")


@dataclass
class TrainConfig:
    output_dir: str = option("runs/run", "Where checkpoints, logs, samples and the final weights go.")
    steps: int = option(10000, "Optimizer steps to train for.")
    batch_size: int = option(
        8,
        "Images per process per step (the global batch is this times the number of processes).",
    )
    seed: int = option(0, "Seed of the initial weights, the data order and the masks.")
    mixed_precision: str = option(
        "no",
        '"no", "bf16" or "fp16" (bf16 needs no loss scaling; prefer it where the hardware has it).',
    )
    resume: str = option(
        "",
        'Resume from "latest" (the newest checkpoint in output_dir), a checkpoint folder, or "" to start '
        'afresh.',
    )
    objective: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Options of the family's objective (loss weights, etc.): ``--objective.KEY VALUE``."},
    )
    data: DataConfig = field(default_factory=DataConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    ema: EmaConfig = field(default_factory=EmaConfig)
    log: LogConfig = field(default_factory=LogConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    hub: HubConfig = field(default_factory=HubConfig)

    def validate(self) -> None:
        if bool(self.model.preset) == bool(self.model.init_weights):
            raise ValueError("set exactly one of --model.preset (fresh weights) and --model.init_weights (fine-tune)")
        if self.mixed_precision not in {"no", "bf16", "fp16"}:
            raise ValueError(f"--mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}")
        if self.schedule.lr_schedule not in {"constant", "linear", "cosine"}:
            raise ValueError(
                f"--schedule.lr_schedule must be constant, linear or cosine, got {self.schedule.lr_schedule!r}"
            )
        if self.data.crop not in {"random", "center"}:
            raise ValueError(f"--data.crop must be random or center, got {self.data.crop!r}")
        if not 1 <= self.data.scale_min <= self.data.scale_max:
            raise ValueError(
                f"--data.scale_min and --data.scale_max need 1 <= min <= max, got {self.data.scale_min}, "
                f"{self.data.scale_max}"
            )
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("--steps and --batch_size must be positive")
        if not self.data.root:
            raise ValueError("--data.root is required: a folder of training images")

    def stage_steps(self) -> list[int]:
        return [int(s) for s in self.schedule.stages.split(",") if s.strip()]


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """Inverse of :func:`config_to_dict` (used by resume to check a checkpoint belongs to this run)."""
    hints = typing.get_type_hints(TrainConfig)
    kwargs = {k: hints[k](**v) if dataclasses.is_dataclass(hints[k]) else v for k, v in values.items()}
    kwargs["objective"] = dict(kwargs.get("objective", {}))
    return TrainConfig(**kwargs)
