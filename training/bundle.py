"""Turn a finished training run into weights that ship with the package: fp16 safetensors and a model card in
``inpaint_core/weights/``. Prints the sha256 that the catalog entry pins.

    python -m training.bundle runs/deepfill-compact --name deepfill-compact-utkface \\
        --command "python -m training.train --preset deepfill-compact ..." --hardware "2-core x86-64 CPU" \\
        --eval "UTKFace eval=eval/utk/results.md" "hq256=eval/hq256/results.md"
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from inpaint_core.catalog import BUNDLED_DIR, validate_weights_name
from inpaint_core.hub import file_sha256
from inpaint_core.models.base import InpaintModel
from inpaint_core.weights import load_model_file, load_state_dict_strict, save_model
from training.cli import parse_literal
from training.data_terms import terms_of


def run_summary(run: Path) -> dict:
    """Steps, batch, image size and wall time of a run, from its ``train_config.json`` and ``log.jsonl``."""
    config = json.loads((run / "train_config.json").read_text())
    last = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    images = last["step"] * config["batch_size"]
    return {"config": config, "steps": last["step"], "hours": images / last["images_per_s"] / 3600}


def describe_crops(data: dict[str, Any]) -> str:
    """How a run's ``DataConfig`` turned images into training crops, for the model card."""
    size = f"{data['size']}x{data['size']}"
    low, high = data.get("scale_min", 1.0), data.get("scale_max", 1.0)
    if high > 1:
        return f"shorter side resized to {data['size']} px times a random {low:g}-{high:g}x zoom, random {size} crops"
    return f"resized to {size}"


def bundle(
    run: Path,
    name: str,
    command: str,
    hardware: str,
    tables: dict[str, str],
    folder: Path = BUNDLED_DIR,
    overrides: dict[str, Any] | None = None,
    started_from: str = "",
) -> Path:
    """Write ``<name>.safetensors`` (fp16, the run's exported weights, with the config ``overrides`` that change
    inference only, e.g. ``residual_ramp``) and ``<name>.md`` into ``folder`` (the package's ``weights``); returns
    the weights path. ``started_from`` says, for the card, which weights a fine-tuning run began with."""
    validate_weights_name(name)
    model = load_model_file(run / "final" / "model.safetensors")
    if overrides:
        trained = model
        model = type(trained)(dataclasses.replace(trained.config, **overrides), trained.preset)
        load_state_dict_strict(model, trained.state_dict(), source=f"{run} with {overrides}")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.safetensors"
    save_model(model, target, dtype=torch.float16)
    card = model_card(model, name, run_summary(run), command, hardware, tables, target, overrides or {}, started_from)
    target.with_suffix(".md").write_text(card)
    return target


def model_card(
    model: InpaintModel,
    name: str,
    summary: dict,
    command: str,
    hardware: str,
    tables: dict[str, str],
    path: Path,
    overrides: dict[str, Any],
    started_from: str = "",
) -> str:
    config = summary["config"]
    terms = terms_of(config["data"]["root"])
    if terms is None:
        raise ValueError(f"bundled weights need known data terms (training.data_terms); {config['data']['root']}")
    params = sum(p.numel() for p in model.parameters())
    lines = [
        f"# `{name}`: {model.name} trained on {terms.short}",
        "",
        f"- **Network**: family `{model.family}`, preset `{model.preset}`, {params / 1e6:.2f} M parameters, "
        f"stored in fp16 ({path.stat().st_size / 1e6:.1f} MB); sha256 `{file_sha256(path)}`",
        f"- **Data**: {terms.description} (`{_shown_path(config['data']['file_list'] or config['data']['root'])}`), "
        f"{describe_crops(config['data'])}, random flips; holes generated from `{config['mask']['mix']}` (the NVIDIA "
        "test masks are never trained on)",
        *([f"- **Started from**: {started_from}"] if started_from else []),
        f"- **Training**: {summary['steps']} steps of batch {config['batch_size']} "
        f"({summary['steps'] * config['batch_size']:,} images), Adam lr {config['optim']['lr_g']:g} with "
        f"{config['schedule']['warmup_steps']} warm-up steps then {config['schedule']['lr_schedule']} decay, EMA "
        f"{config['ema']['decay']}{_stages(config['schedule'])}; objective options "
        f"`{json.dumps(config['objective'])}`",
        f"- **Time and hardware**: {summary['hours']:.2f} h on {hardware}",
        *([f"- **Set when bundling** (inference only; chosen on a validation slice of the training split with "
           f"generated masks, never the evaluation data): `{json.dumps(overrides)}`"] if overrides else []),
        f"- **Licence of the weights**: {terms.license}",
        "",
        "## Reproduce",
        "",
        "```bash",
        command,
        f"python -m training.bundle runs/{Path(config['output_dir']).name} --name {name} "
        + "".join(f"--set {key}={value} " for key, value in overrides.items())
        + "--hardware '...' --command '...' --eval ...",
        "```",
        "",
        "## Evaluation",
        "",
        "Protocol of `python -m training.evaluate`: 256x256, NVIDIA irregular test masks by hole "
        "ratio, composited, 8-bit.",
        "",
    ]
    for title, table in tables.items():
        lines += [f"### {title}", "", table.strip(), ""]
    return "\n".join(lines)


def _shown_path(path: str) -> str:
    """A data path as a card shows it: an absolute path (the trainer resolves them) without the machine's folders
    above the data set, ``.../scenes_train/train.txt``."""
    parts = Path(path).parts
    return path if not Path(path).is_absolute() or len(parts) <= 3 else str(Path("...", *parts[-2:]))


def _stages(schedule: dict[str, Any]) -> str:
    if not schedule.get("stages"):
        return ""
    restart = ", the schedule restarting at each stage" if schedule.get("per_stage") else ""
    return f"; stages of {schedule['stages']} steps, one trained at a time{restart}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.bundle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="the run's output_dir (with final/model.safetensors)")
    parser.add_argument("--name", required=True, help="catalog name of the bundled weights")
    parser.add_argument("--command", required=True, help="the exact command that trained the run")
    parser.add_argument("--hardware", required=True, help="what it ran on, for the model card")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change an inference-only config field of the trained model (JSON value)")
    parser.add_argument("--started_from", default="",
                        help="for fine-tuning runs: the weights it began with, in words, for the card")
    parser.add_argument("--eval", nargs="*", default=[], metavar="TITLE=RESULTS_MD",
                        help="evaluation tables (training.evaluate's results.md) to put in the card")
    args = parser.parse_args(argv)
    tables = {}
    for item in args.eval:
        title, _, table_path = item.rpartition("=")
        tables[title or table_path] = Path(table_path).read_text()
    overrides = {key: parse_literal(value) for key, _, value in (item.partition("=") for item in args.set)}
    path = bundle(args.run, args.name, args.command, args.hardware, tables, overrides=overrides,
                  started_from=args.started_from)
    print(f"{path} ({path.stat().st_size / 1e6:.2f} MB) sha256 {file_sha256(path)}")


if __name__ == "__main__":
    main()
