"""Resumable checkpoints: written atomically (a temporary folder renamed into place), the newest ``keep`` kept.

A checkpoint folder ``<output_dir>/checkpoints/step_<N>`` holds what ``accelerator.save_state`` writes (optimizers,
gradient scaler, the RNG states of every process) plus, as safetensors, the generator, its EMA and the
discriminator, and ``trainer_state.json`` (the step; the data position and the learning rate are functions of it).
A save that fails (a full disk) removes its temporary folder and says which checkpoint is intact; a process killed
while saving leaves only the temporary folder, which is not a checkpoint and is removed by the next save.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import load_file, save_file

from inpaint_core.errors import WeightsError
from inpaint_core.weights import load_state_dict_strict, save_model

from .ema import Ema

_NAME = re.compile(r"^step_(\d+)$")
TMP_PREFIX = ".tmp_"


def checkpoints_dir(output_dir: str | Path) -> Path:
    return Path(output_dir) / "checkpoints"


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary folders of interrupted saves are not checkpoints)."""
    root = checkpoints_dir(output_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _NAME.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def resolve_resume(resume: str, output_dir: str | Path) -> Path | None:
    """``"latest"`` -> the newest checkpoint of ``output_dir`` (None when there is none yet); a path -> itself."""
    if not resume:
        return None
    if resume == "latest":
        found = list_checkpoints(output_dir)
        return found[-1] if found else None
    path = Path(resume)
    if not (path / "trainer_state.json").is_file():
        raise FileNotFoundError(f"{path} is not a checkpoint folder (no trainer_state.json)")
    return path


def save_checkpoint(
    accelerator: Accelerator,
    output_dir: str | Path,
    step: int,
    model: torch.nn.Module,
    ema: Ema | None,
    discriminator: torch.nn.Module,
    keep: int,
) -> Path:
    """Write the checkpoint of ``step`` (every process takes part), then delete all but the newest ``keep``."""
    root = checkpoints_dir(output_dir)
    final = root / f"step_{step:08d}"
    tmp = root / f"{TMP_PREFIX}step_{step:08d}"
    if accelerator.is_main_process:
        for stale in root.glob(f"{TMP_PREFIX}*") if root.is_dir() else ():
            shutil.rmtree(stale)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    try:
        accelerator.save_state(str(tmp))
        if accelerator.is_main_process:
            save_model(model, tmp / "generator.safetensors")
            if ema is not None:
                save_model(ema.model, tmp / "ema.safetensors")
            save_file(_plain_state(discriminator), str(tmp / "discriminator.safetensors"))
            (tmp / "trainer_state.json").write_text(json.dumps({"step": step}))
    except (OSError, RuntimeError, WeightsError) as error:  # torch.save reports a failed write as a RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)
        previous = list_checkpoints(output_dir)
        raise RuntimeError(
            f"the checkpoint of step {step} could not be written to {root} ({error}); a full disk is the usual "
            "cause. " + (f"The newest complete checkpoint, {previous[-1].name}, is intact: " if previous else "")
            + "free some space (or lower --checkpoint.keep) and rerun with --resume latest"
        ) from error
    if accelerator.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in list_checkpoints(output_dir)[:-keep] if keep > 0 else ():
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(
    accelerator: Accelerator, path: Path, model: torch.nn.Module, ema: Ema | None, discriminator: torch.nn.Module
) -> int:
    """Restore everything :func:`save_checkpoint` wrote; returns the step to continue from."""
    accelerator.load_state(str(path))
    load_state_dict_strict(model, load_file(str(path / "generator.safetensors")), source=str(path))
    if ema is not None:
        source = path / "ema.safetensors"
        load_state_dict_strict(ema.model, load_file(str(source)), source=str(source))
    load_state_dict_strict(discriminator, load_file(str(path / "discriminator.safetensors")), source=str(path))
    return int(json.loads((path / "trainer_state.json").read_text())["step"])


def _plain_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}
