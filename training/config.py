"""The configuration of a training run: one typed dataclass, named presets, and a command line over both.

A run is ``TrainConfig``: nested sections (``data``, ``mask``, ``model``, ``optim``, ``schedule``, ``ema``, ``log``,
``checkpoint``, ``eval``, ``hub``) plus a few top-level fields. Every field can be set from the command line with
``--section.field value`` (``--steps 1000``, ``--optim.lr_g 1e-4``); ``--preset NAME`` starts from a named preset.
Options of the family's objective (loss weights and such) are free-form: ``--objective.KEY VALUE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass
class DataConfig:
    #: Folder of training images (searched recursively for .png/.jpg/.jpeg/.webp/.bmp).
    root: str = ""
    #: Optional text file of image paths relative to ``root`` (one per line), e.g. a split's ``train.txt``.
    file_list: str = ""
    #: Side of the square training crops; the image is resized so its shorter side is ``size`` then cropped.
    size: int = 256
    #: Crop position: "random" (training) or "center".
    crop: str = "random"
    #: Random zoom for random crops: the shorter side is resized to ``size`` times a factor drawn uniformly from
    #: [scale_min, scale_max] (both >= 1), so the crops show the images at several scales. 1, 1: no zoom.
    scale_min: float = 1.0
    scale_max: float = 1.0
    #: Flip images left-right with probability 0.5.
    flip: bool = True
    #: DataLoader worker processes (0 = load in the training process).
    num_workers: int = 2


@dataclass
class MaskConfig:
    #: Mix of mask sources, ``name=weight`` separated by commas. Names: the generators of
    #: ``inpaint_core.masks.generators`` and ``files`` (masks read from ``folder``).
    mix: str = "free_form=0.5,box=0.2,files=0.3"
    #: Folder of mask images for ``files`` (e.g. ``shared/data/masks/nvidia_irregular/png``).
    folder: str = ""
    #: Optional text file of mask file names inside ``folder``.
    file_list: str = ""
    #: Mask files are white = hole; set to read black = hole.
    invert: bool = False
    #: Randomly flip and rotate (multiples of 90 degrees) file masks.
    augment: bool = True


@dataclass
class ModelConfig:
    #: The network to train: a preset ``family.preset`` (fresh weights) ...
    preset: str = ""
    #: ... or weights to fine-tune: a file, a catalog name or a Hub repo id (``inpaint_core.load_model``).
    init_weights: str = ""
    #: Modules to import before building the model, comma separated (to register a family of your own).
    imports: str = ""


@dataclass
class OptimConfig:
    #: Learning rates of the generator and the discriminator.
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    #: Adam betas.
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 0.0
    #: Clip the gradient norm of each network to this value (0 = no clipping).
    grad_clip: float = 0.0


@dataclass
class ScheduleConfig:
    #: Learning-rate schedule after warm-up: "constant", "linear" (to 0 at the last step) or "cosine".
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    #: Progressive training: steps of each stage, comma separated (e.g. "100000,100000,200000"); stage k trains the
    #: parameters the objective returns for ``objective.stage = k`` and freezes the rest. Empty = one stage.
    stages: str = ""


@dataclass
class EmaConfig:
    #: Keep an exponential moving average of the generator's weights (0 disables it).
    decay: float = 0.999
    #: Start averaging after this many steps (copy the weights until then).
    start_step: int = 0


@dataclass
class LogConfig:
    #: Write scalars to TensorBoard (``<output_dir>/logs``) every this many steps.
    every: int = 50
    #: Save a sample grid PNG (rows: input | output | ground truth) every this many steps (0 = never).
    sample_every: int = 500
    #: Images in a sample grid.
    samples: int = 4
    #: Use TensorBoard (otherwise logs go to ``log.jsonl`` only).
    tensorboard: bool = True


@dataclass
class CheckpointConfig:
    #: Save a resumable checkpoint every this many steps (0 = only at the end).
    every: int = 1000
    #: Keep the newest this many checkpoints.
    keep: int = 3


@dataclass
class EvalConfig:
    #: Evaluate the EMA generator every this many steps (0 = never; needs ``images`` and ``masks``).
    every: int = 0
    #: Image folder and optional file list to evaluate on (never the training split).
    images: str = ""
    file_list: str = ""
    #: Mask folder (white = hole), e.g. the NVIDIA irregular test masks.
    masks: str = ""
    #: Images per hole-ratio bucket.
    per_bucket: int = 50
    #: Bucket widths in percent, comma separated: "20" gives 0-20/20-40/40-60, "10" gives 10 % steps.
    buckets: str = "20"


@dataclass
class HubConfig:
    #: Upload the final weights, config.json and a model card to this Hub repo id (``owner/name``) when done.
    push_to_hub: str = ""
    private: bool = False
    #: Licence written into the model card.
    license: str = "apache-2.0"
    #: A sentence about the training data for the model card.
    data_description: str = ""


@dataclass
class TrainConfig:
    #: Where checkpoints, logs, samples and the final weights go.
    output_dir: str = "runs/run"
    #: Optimizer steps to train for.
    steps: int = 10000
    #: Images per process per step (the global batch is this times the number of processes).
    batch_size: int = 8
    seed: int = 0
    #: "no", "bf16" or "fp16" (bf16 needs no loss scaling; prefer it where the hardware has it).
    mixed_precision: str = "no"
    #: Resume from "latest" (the newest checkpoint in output_dir), a checkpoint folder, or "" to start afresh.
    resume: str = ""
    #: Options for the family's objective (loss weights, etc.): ``--objective.KEY VALUE``.
    objective: dict[str, Any] = field(default_factory=dict)
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


#: Named presets: the papers' hyper-parameters (research/methods.md) for a full run, and ``*-tiny`` for quick checks.
#: Model presets are resolved when the run starts, so a preset of a family that is not installed fails only if used.
PRESETS: dict[str, TrainConfig] = {
    # CTSDG (methods.md 2.7): Adam default betas, lr G 2e-4, D 2e-5 (D2G_lr 0.1), batch 6 at 256, 300k iterations.
    "ctsdg": _paper("ctsdg.celebahq", 2e-4, 2e-5, (0.9, 0.999), 6, 300_000),
    # CTSDG fine-tuning stage: lr 5e-5 / 5e-6 and every BatchNorm frozen (the official freeze_ec_bn).
    "ctsdg-finetune": _paper("ctsdg.celebahq", 5e-5, 5e-6, (0.9, 0.999), 6, 150_000,
                             objective={"freeze_batchnorm": True}),
    # DeepFillv2 (methods.md 5.2): Adam lr 1e-4, betas (0.5, 0.999), batch 16 at 256.
    "deepfill": _paper("deepfill.places2", 1e-4, 1e-4, (0.5, 0.999), 16, 300_000),
    # Progressive (methods.md 5.4): as DeepFillv2, stage-wise curriculum 1/4 -> 1/2 -> 1 then joint.
    "progressive": _paper(
        "progressive.places2-256",
        1e-4,
        1e-4,
        (0.5, 0.999),
        16,
        400_000,
        schedule=ScheduleConfig(stages="100000,100000,200000"),
    ),
    # MDRN (methods.md 3.4): Adam lr 1e-4, betas (0.5, 0.999), batch 8 at 256, ~300k iterations.
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
        ema=EmaConfig(decay=0.998, start_step=300),
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


# ----------------------------------------------------------------------------------------------------------------
# Command line


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field, Any, type]]:
    """``(dotted name, field, type, owning class)`` of every scalar field, depth first."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            out += _leaves(kind, f"{prefix}{f.name}.")
        elif f.name != "objective":
            out.append((prefix + f.name, f, kind, cls))
    return out


def _field_help(cls: type) -> dict[str, str]:
    """The ``#:`` comments above each field, read from this module's source (they are the documentation)."""
    import inspect

    notes: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(cls).splitlines()[1:]:
        text = line.strip()
        if text.startswith("#:"):
            pending.append(text[2:].strip())
        elif ":" in text and not text.startswith(("#", '"')):
            notes[text.split(":")[0].strip()] = " ".join(pending)
            pending = []
        else:
            pending = []
    return notes


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_literal(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelerate launch training/train.py",
        usage="%(prog)s [--preset NAME] [--SECTION.FIELD VALUE ...] [--objective.KEY VALUE ...]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Train or fine-tune an inpainting network of inpaint_core.\n\n"
            "Start from a preset and change what you need, e.g.\n"
            "  accelerate launch training/train.py --preset deepfill --data.root photos/ "
            "--mask.folder masks/ --output_dir runs/mine\n"
            "  python -m training.train --preset ctsdg-tiny --data.root faces/ --steps 300\n"
            "  python -m training.train --model.init_weights owner/repo --data.root faces/ ... (fine-tune)\n"
            "Resume a run that stopped: add --resume latest with the same --output_dir.\n"
            "Loss weights and other options of the network's objective: --objective.KEY VALUE.\n\n"
            f"Presets: {', '.join(PRESETS)}"
        ),
    )
    parser.add_argument("--preset", default="", help="start from this named run preset (see the list above)")
    sections: dict[str, argparse._ArgumentGroup] = {}
    notes: dict[type, dict[str, str]] = {}
    for name, f, kind, owner in _leaves(TrainConfig):
        section = name.split(".")[0] if "." in name else "run"
        group = sections.setdefault(section, parser.add_argument_group(section))
        note = notes.setdefault(owner, _field_help(owner)).get(f.name, "")
        flags = [f"--{name}", *(alias for alias, target in ALIASES.items() if target == name)]
        group.add_argument(
            *flags,
            dest=name,
            type=_parse_bool if kind is bool else kind,
            default=None,
            metavar=kind.__name__.upper(),
            help=f"{note} (default: {_default_repr(f)})",
        )
    return parser


#: Short flags for common fields.
ALIASES = {"--push_to_hub": "hub.push_to_hub"}


def _default_repr(f: dataclasses.Field) -> str:
    return repr(f.default) if f.default is not dataclasses.MISSING else "see preset"


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The run's config: ``--preset`` (or the defaults), then every ``--field value`` given, validated."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    objective: dict[str, Any] = {}
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--objective.") or not rest:
            parser.error(f"unrecognised argument {flag!r}")
        objective[flag.removeprefix("--objective.")] = parse_literal(rest.pop(0))
    if args.preset and args.preset not in PRESETS:
        parser.error(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    config = _copy(PRESETS[args.preset]) if args.preset else TrainConfig()
    config.objective.update(objective)
    for name, *_ in _leaves(TrainConfig):
        value = getattr(args, name)
        if value is not None:
            set_field(config, name, value)
    try:
        config.validate()
    except ValueError as error:
        parser.error(str(error))
    return config


def set_field(config: TrainConfig, dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    target = config
    for part in path:
        target = getattr(target, part)
    setattr(target, last, value)


def _copy(config: TrainConfig) -> TrainConfig:
    return config_from_dict(config_to_dict(config))


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """Inverse of :func:`config_to_dict` (used by resume to check a checkpoint belongs to this run)."""
    hints = typing.get_type_hints(TrainConfig)
    kwargs = {k: hints[k](**v) if dataclasses.is_dataclass(hints[k]) else v for k, v in values.items()}
    kwargs["objective"] = dict(kwargs.get("objective", {}))
    return TrainConfig(**kwargs)
