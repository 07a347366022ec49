"""The trainer's command line: ``--preset NAME`` then ``--section.field value`` for any field of the schema.

Every field of :class:`training.schema.TrainConfig` is a flag (``--steps 1000``, ``--optim.lr_g 1e-4``) whose help is
the field's ``metadata["help"]``; options of the family's objective are ``--objective.KEY VALUE`` (JSON values).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from typing import Any

from .config import PRESETS
from .schema import TrainConfig, config_from_dict, config_to_dict


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field, Any]]:
    """``(dotted name, field, type)`` of every scalar field, depth first."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            out += _leaves(kind, f"{prefix}{f.name}.")
        elif f.name != "objective":
            out.append((prefix + f.name, f, kind))
    return out


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
            "--output_dir runs/mine\n"
            "  ... --mask.mix free_form=0.7,files=0.3 --mask.folder my_masks/ (add your own masks)\n"
            "  python -m training.train --preset ctsdg-tiny --data.root faces/ --steps 300\n"
            "  python -m training.train --model.init_weights owner/repo --data.root faces/ ... (fine-tune)\n"
            "Resume a run that stopped: add --resume latest with the same --output_dir.\n"
            "Loss weights and other options of the network's objective: --objective.KEY VALUE.\n\n"
            f"Presets: {', '.join(PRESETS)}"
        ),
    )
    parser.add_argument("--preset", default="", help="start from this named run preset (see the list above)")
    sections: dict[str, argparse._ArgumentGroup] = {}
    for name, f, kind in _leaves(TrainConfig):
        section = name.split(".")[0] if "." in name else "run"
        group = sections.setdefault(section, parser.add_argument_group(section))
        note = f.metadata.get("help", "")
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
