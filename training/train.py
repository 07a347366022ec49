"""The training loop: any registered family, its own objective, on one or many processes through accelerate.

Run ``accelerate launch training/train.py --help`` (or ``python -m training.train --help``). Each step does the
family's generator step, then its discriminator step on the detached outputs (CTSDG's order), then the EMA update.
Gradients are averaged over processes by an explicit all-reduce (the objectives call ``model.predict_outputs``,
which a DDP wrapper would not see), so N processes with batch B give the same update as one with batch N x B.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import time
from collections.abc import Iterable
from pathlib import Path

if __package__ in (None, ""):  # run as a script (accelerate launch training/train.py): make `training` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.distributed as dist
from accelerate import Accelerator
from tqdm.auto import tqdm

import inpaint_core as ic
from inpaint_core.image_ops import to_pil
from inpaint_core.models.base import InpaintModel
from inpaint_core.weights import write_atomically
from training.checkpoint import list_checkpoints, load_checkpoint, resolve_resume, save_checkpoint
from training.cli import parse_args
from training.data import InpaintingDataset, MaskSampler, make_loader
from training.data_terms import card_license
from training.ema import Ema
from training.objectives import build_objective
from training.publish import PublishError, check_hub_access, push_command, push_folder, write_model_folder
from training.samples import sample_grid
from training.schema import TrainConfig, config_to_dict


def build_generator(config: TrainConfig) -> InpaintModel:
    """Fresh weights from ``model.preset`` or trained ones from ``model.init_weights`` (fine-tuning)."""
    for module in filter(None, (m.strip() for m in config.model.imports.split(","))):
        importlib.import_module(module)
    if config.model.init_weights:
        model = ic.load_model(config.model.init_weights)
    else:
        model = ic.build_model(config.model.preset)
    return model.train()


def lr_factor(step: int, config: TrainConfig) -> float:
    """The learning-rate multiplier at ``step`` (a pure function of the step, so resuming restores it exactly)."""
    warmup, length = config.schedule.warmup_steps, config.steps
    stages = config.stage_steps()
    if stages and config.schedule.per_stage:  # the schedule of the stage's own steps (the last one runs to the end)
        index = stage_at(step, stages)
        begin = sum(stages[:index])
        end = config.steps if index == len(stages) - 1 else begin + stages[index]
        step, length = step - begin, end - begin
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, length - warmup)
    kind = config.schedule.lr_schedule
    if kind == "linear":
        return max(0.0, 1 - progress)
    if kind == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return 1.0


def stage_at(step: int, stages: list[int]) -> int:
    total = 0
    for index, length in enumerate(stages):
        total += length
        if step < total:
            return index
    return max(0, len(stages) - 1)


def set_stage(objective, model: InpaintModel, stage: int) -> list[torch.nn.Parameter]:
    """Tell a progressive objective its stage; train only what it returns for that stage, freeze the rest."""
    objective.stage = stage
    model.requires_grad_(True)
    trainable = list(objective.generator_parameters(model))
    chosen = {id(p) for p in trainable}
    for param in model.parameters():
        param.requires_grad_(id(param) in chosen)
    return trainable


def average_gradients(params: Iterable[torch.nn.Parameter], world_size: int) -> None:
    """All-reduce (mean) the gradients of ``params`` in one flat buffer."""
    grads = [p.grad for p in params if p.grad is not None]
    if world_size == 1 or not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def gan_step(
    accelerator: Accelerator,
    objective,
    model: InpaintModel,
    image: torch.Tensor,
    hole: torch.Tensor,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    g_params: list[torch.nn.Parameter],
    d_params: list[torch.nn.Parameter],
    grad_clip: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, dict, dict]:
    """One generator update (discriminator frozen), then one discriminator update on the detached outputs (none
    when the objective does not train its discriminator).

    Returns ``(loss_g, loss_d, generator terms, discriminator terms)``. Gradients are averaged over processes.
    """
    for param in d_params:
        param.requires_grad_(False)
    with accelerator.autocast():
        loss_g, terms_g, outputs = objective.generator_step(model, image, hole)
    _update(accelerator, loss_g, g_params, opt_g, grad_clip)

    if not objective.trains_discriminator:
        return loss_g, loss_g.new_zeros(()), terms_g, {}
    for param in d_params:
        param.requires_grad_(True)
    detached = {k: v.detach() for k, v in outputs.items()}
    with accelerator.autocast():
        loss_d, terms_d = objective.discriminator_step(image, hole, detached)
    _update(accelerator, loss_d, d_params, opt_d, grad_clip)
    return loss_g, loss_d, terms_g, terms_d


def _update(accelerator, loss, params, optimizer, grad_clip: float) -> None:
    """Backward, average the gradients over processes, clip, step."""
    accelerator.backward(loss)
    average_gradients(params, accelerator.num_processes)
    if grad_clip > 0:
        accelerator.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _flat(values: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value if isinstance(value, int | float | str | bool) else str(value)
    return out


def train(config: TrainConfig) -> Path:
    """Run (or resume) the training described by ``config``; returns the folder of the final model."""
    output_dir = Path(config.output_dir)
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        log_with="tensorboard" if config.log.tensorboard else None,
        project_dir=str(output_dir),
    )
    main = accelerator.is_main_process
    device = accelerator.device
    if main and config.hub.push_to_hub:  # fail now, not after hours of training
        try:
            account = check_hub_access(config.hub.push_to_hub)
        except PublishError as error:
            raise SystemExit(f"error: --push_to_hub: {error}") from None
        print(f"will push to {config.hub.push_to_hub} as {account} at the end")
    torch.manual_seed(config.seed)  # same initial weights on every process

    model = build_generator(config).to(device)
    if model.fixed_size and config.data.size != model.working_size:
        raise SystemExit(
            f"{model.name} runs at {model.working_size}x{model.working_size} only: set --data.size "
            f"{model.working_size}"
        )
    try:
        objective = build_objective(model.family, model.config, config.objective).to(device)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    objective.prepare(model, fine_tune=bool(config.model.init_weights))
    discriminator = objective.discriminator
    d_params = [p for p in discriminator.parameters() if p.requires_grad]
    stages = config.stage_steps()
    if stages and not hasattr(objective, "stage"):
        raise SystemExit(f"--schedule.stages is set but the {model.family} objective has no stages")
    ema = Ema(model, config.ema.decay, config.ema.start_step, config.ema.warmup) if config.ema.decay > 0 else None

    opt_g = torch.optim.Adam(
        model.parameters(),
        lr=config.optim.lr_g,
        betas=(config.optim.beta1, config.optim.beta2),
        weight_decay=config.optim.weight_decay,
    )
    opt_d = torch.optim.Adam(
        d_params,
        lr=config.optim.lr_d,
        betas=(config.optim.beta1, config.optim.beta2),
        weight_decay=config.optim.weight_decay,
    )
    opt_g, opt_d = accelerator.prepare(opt_g, opt_d)

    start = 0
    resume_from = resolve_resume(config.resume, output_dir)
    if resume_from is not None:
        start = load_checkpoint(accelerator, resume_from, model, ema, discriminator)
        if main:
            print(f"resumed from {resume_from} at step {start}")

    masks = MaskSampler(config.mask, config.data.size)
    dataset = InpaintingDataset(config.data, masks, config.seed)
    loader = make_loader(
        dataset,
        config.batch_size,
        start,
        accelerator.process_index,
        accelerator.num_processes,
        config.data.num_workers,
    )
    count = min(config.log.samples, len(dataset))  # fixed images spread over the dataset, shown at every interval
    preview = [dataset[(0, i * len(dataset) // count)] for i in range(count)] if main else []

    if main:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "train_config.json").write_text(json.dumps(config_to_dict(config), indent=2))
    if config.log.tensorboard:
        accelerator.init_trackers("logs", config=_flat(config_to_dict(config)))
    log_file = output_dir / "log.jsonl"
    if main and resume_from is not None:
        _trim_log(log_file, start)

    stage = -1
    g_params: list[torch.nn.Parameter] = [p for p in model.parameters() if p.requires_grad]
    bar = tqdm(total=config.steps, initial=start, disable=not main, desc=f"train {model.name}", dynamic_ncols=True)
    started = time.perf_counter()
    batches = iter(loader)
    for step in range(start, config.steps):
        if stages and stage_at(step, stages) != stage:
            stage = stage_at(step, stages)
            g_params = set_stage(objective, model, stage)
        factor = lr_factor(step, config)
        for group in opt_g.param_groups:
            group["lr"] = config.optim.lr_g * factor
        for group in opt_d.param_groups:
            group["lr"] = config.optim.lr_d * factor
        batch = next(batches)
        image = batch["image"].to(device, non_blocking=True)
        hole = batch["hole"].to(device, non_blocking=True)

        loss_g, loss_d, terms_g, terms_d = gan_step(
            accelerator, objective, model, image, hole, opt_g, opt_d, g_params, d_params, config.optim.grad_clip
        )
        if ema is not None:
            ema.update(model, step)

        done = step + 1
        if main and (done % config.log.every == 0 or done == config.steps):
            scalars = {
                "loss/g": float(loss_g.detach()),
                "loss/d": float(loss_d.detach()),
                "lr/g": config.optim.lr_g * factor,
                **{f"g/{k}": float(v) for k, v in terms_g.items()},
                **{f"d/{k}": float(v) for k, v in terms_d.items()},
                "images_per_s": (done - start)
                * config.batch_size
                * accelerator.num_processes
                / (time.perf_counter() - started),
            }
            with open(log_file, "a") as handle:
                handle.write(json.dumps({"step": done, **scalars}) + "\n")
            bar.set_postfix(g=f"{scalars['loss/g']:.3f}", d=f"{scalars['loss/d']:.3f}")
        if config.log.tensorboard and main and done % config.log.every == 0:
            accelerator.log(scalars, step=done)
        if main and config.log.sample_every and (done % config.log.sample_every == 0 or done == config.steps):
            _write_samples(accelerator, config, ema.model if ema else model, preview, done)
        if config.checkpoint.every and done % config.checkpoint.every == 0 and done < config.steps:
            save_checkpoint(accelerator, output_dir, done, model, ema, discriminator, config.checkpoint.keep)
        if config.eval.every and done % config.eval.every == 0 and done < config.steps:
            _evaluate(accelerator, config, ema.model if ema else model, done)
        bar.update(1)
    bar.close()

    if start < config.steps or not list_checkpoints(output_dir):
        save_checkpoint(accelerator, output_dir, config.steps, model, ema, discriminator, config.checkpoint.keep)
    final = output_dir / "final"
    exported = ema.model if ema is not None else model
    table = _evaluate(accelerator, config, exported, config.steps) if config.eval.images else ""
    if main:
        data = config.hub.data_description or f"{config.data.root} {config.data.file_list}".strip()
        hub_license, license_text = card_license(config.hub.license, config.data.root)
        write_model_folder(
            exported,
            final,
            steps=config.steps,
            data=data,
            license=hub_license,
            license_text=license_text,
            train_config=config_to_dict(config),
            eval_table=table,
        )
        print(f"final weights: {final / 'model.safetensors'} (model card: {final / 'README.md'})")
        print(f"  use them: inpaint_core.load_model({str(final / 'model.safetensors')!r})")
    pushed = _push(config, final) if main and config.hub.push_to_hub else True
    accelerator.wait_for_everyone()
    accelerator.end_training()
    if not pushed:
        raise SystemExit(1)
    return final


def _push(config: TrainConfig, final: Path) -> bool:
    """Upload ``final`` to the run's Hub repo; on failure say so in a few lines (the weights stay saved)."""
    try:
        url = push_folder(final, config.hub.push_to_hub, private=config.hub.private)
    except PublishError as error:
        print(
            f"error: {error}\nThe model is saved in {final}. Push it again with:\n"
            f"  {push_command(final, config.hub.push_to_hub, config.hub.private)}",
            file=sys.stderr,
        )
        return False
    print(f"pushed to {url}")
    return True


def _trim_log(log_file: Path, step: int) -> None:
    """Drop the lines of ``log_file`` past ``step``: a run killed after its last checkpoint logged steps that its
    resumed run logs again, and one killed while writing a line left it unfinished. The shortened log replaces the
    old one atomically."""
    if not log_file.is_file():
        return
    lines = log_file.read_text().splitlines(keepends=True)
    kept = [line for line in lines if line.endswith("\n") and json.loads(line)["step"] <= step]
    if len(kept) < len(lines):
        write_atomically(log_file, lambda tmp: tmp.write_text("".join(kept)))


def _write_samples(
    accelerator: Accelerator, config: TrainConfig, model: InpaintModel, preview: list[dict], step: int
) -> None:
    image = torch.stack([p["image"] for p in preview]).to(accelerator.device)
    hole = torch.stack([p["hole"] for p in preview]).to(accelerator.device)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        output = model.predict_outputs(image, hole, generator=torch.Generator(device=image.device).manual_seed(0))
    model.train(was_training)
    grid = sample_grid(image, hole, output["image"].float())
    path = Path(config.output_dir) / "samples" / f"step_{step:08d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(grid).save(path)
    if config.log.tensorboard:
        accelerator.get_tracker("tensorboard", unwrap=True).add_image("samples", grid, step)


def _evaluate(accelerator: Accelerator, config: TrainConfig, model: InpaintModel, step: int) -> str:
    """Score ``model`` on the eval set (main process); the Markdown table, logged to TensorBoard too."""
    table = ""
    if accelerator.is_main_process:
        from training.evaluate import evaluate_models, write_report

        was_training = model.training
        results = evaluate_models(
            {model.name: model.eval()},
            images=config.eval.images,
            file_list=config.eval.file_list,
            masks=config.eval.masks,
            per_bucket=config.eval.per_bucket,
            bucket_widths=config.eval.buckets,
        )
        model.train(was_training)
        table = write_report(results, Path(config.output_dir) / "eval" / f"step_{step:08d}")
        scalars = {
            f"eval/{metric}/{bucket}": value
            for bucket, metrics in results["models"][model.name].items()
            for metric, value in metrics.items()
            if isinstance(value, float)
        }
        if config.log.tensorboard:
            accelerator.log(scalars, step=step)
    accelerator.wait_for_everyone()
    return table


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
