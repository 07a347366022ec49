"""Command line: inpaint an image or a folder, inpaint the faces of a photo, list the models, convert a checkpoint.

python -m inpaint_core inpaint photo.png mask.png -o out.png --model opencv.telea
python -m inpaint_core inpaint photos/ masks/ -o results/        # masks matched by file name
python -m inpaint_core faces portrait.jpg mask.png -o out.png     # a face network on each detected face
python -m inpaint_core list
python -m inpaint_core convert ctsdg official.pt ctsdg-celeba.safetensors

The pipeline's flags are ``inpaint_core.InpaintOptions``' fields (``--feather-pixels`` for ``feather_pixels``), the
face flags ``FaceOptions``' fields, with their defaults and ranges. Inputs and the output's file type are checked
before the model is loaded. In a folder run, an image that has no mask or cannot be read or inpainted is reported
and skipped; the run goes on and exits with status 1. Errors exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from .api import convert_checkpoint, list_models, load_auto, load_model, ready_models
from .auto import AUTO_NAMES, BUNDLED
from .errors import InpaintError
from .faces import inpaint_faces
from .image_ops import open_image, to_pil
from .options import FaceOptions, InpaintOptions
from .pipeline import inpaint_detailed
from .registry import preset_names, split_preset_name
from .sharding import process_device, process_rank, share

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
#: The pipeline options of the ``faces`` command: each face crop always runs ``resize``, so no strategy or margin.
FACE_PIPELINE_OPTIONS = ("feather_pixels", "threshold", "color_match", "working_size", "seed")
#: Exit status of a folder run in which some images were skipped.
PARTIAL = 1
#: Exit status of an error that stopped the command.
FAILED = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except InpaintError as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILED


def flag(name: str) -> str:
    """The command-line flag of an option: ``feather_pixels`` -> ``--feather-pixels``."""
    return "--" + name.replace("_", "-")


def _add_options(parser: argparse.ArgumentParser, options_cls, names) -> None:
    """A flag for each option in ``names``, with the option's default, type, choices and help (and its range)."""
    specs = options_cls.specs()
    for name in names:
        item, spec = specs[name]
        kind = str(item.type)
        if kind == "bool":
            parser.add_argument(flag(name), action=argparse.BooleanOptionalAction, default=item.default,
                                help=spec.help)
        elif spec.choices:
            parser.add_argument(flag(name), choices=spec.choices, default=item.default, help=f"{spec.help} "
                                "(default: %(default)s)")
        else:
            parser.add_argument(flag(name), type=int if kind == "int" else float, default=item.default,
                                help=f"{spec.help}; {spec.minimum:g} to {spec.maximum:g} (default: %(default)s)")


def _options(args, options_cls, names):
    return options_cls(**{name: getattr(args, name) for name in names})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint-gan", description="GAN image inpainting (mask: white = fill).")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("inpaint", help="inpaint an image, or every image of a folder")
    _add_inputs(run, "an image file, or a folder of images",
                "a mask file (white = fill), or a folder of masks with the images' names")
    _add_options(run, InpaintOptions, InpaintOptions.specs())
    run.set_defaults(run=_inpaint)

    faces = commands.add_parser("faces", help="inpaint the holes inside each face of a photo with a face network")
    _add_inputs(faces, "a photo (or a folder of photos)", "a mask (white = fill), or a folder of masks")
    _add_options(faces, FaceOptions, FaceOptions.specs())
    _add_options(faces, InpaintOptions, FACE_PIPELINE_OPTIONS)
    faces.set_defaults(run=_faces)

    show = commands.add_parser("list", help="list the model names: ready ones, downloadable ones, presets to train")
    show.set_defaults(run=_list)

    convert = commands.add_parser("convert", help="convert an official release checkpoint to safetensors")
    convert.add_argument("family")
    convert.add_argument("source", type=Path)
    convert.add_argument("destination", type=Path)
    convert.set_defaults(run=_convert)
    return parser


def _add_inputs(parser: argparse.ArgumentParser, image_help: str, mask_help: str) -> None:
    parser.add_argument("image", type=Path, help=image_help)
    parser.add_argument("mask", type=Path, help=mask_help)
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="output file (its suffix gives the format), or a folder for a folder input (PNG files)")
    parser.add_argument("--model", default="auto",
                        help="catalog name, preset, file or Hub repo id; auto / auto-face (default: auto) pick the "
                             "strongest downloaded or downloadable scene / face network, else the bundled "
                             f"{BUNDLED['scene']} / {BUNDLED['face']}")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


Job = tuple[Path, Path | None, Path]  # image, mask (None: missing), output


def _jobs(image: Path, mask: Path, output: Path) -> list[Job]:
    """What to inpaint; a single file's inputs and output type are checked here, before any model is loaded."""
    if not image.exists():
        raise InpaintError(f"{image} does not exist")
    if not mask.exists():
        raise InpaintError(f"{mask} does not exist")
    if not image.is_dir():
        _check_writable(output)
        open_image(image), open_image(mask)
        return [(image, mask, output)]
    if output.exists() and not output.is_dir():
        raise InpaintError(f"{image} is a folder, so the output must be a folder, but {output} is a file")
    images = sorted(p for p in image.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise InpaintError(f"no images in {image} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    if not mask.is_dir():
        open_image(mask)
        return [(p, mask, output / f"{p.stem}.png") for p in images]
    masks = {p.stem: p for p in mask.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    return [(p, masks.get(p.stem), output / f"{p.stem}.png") for p in images]


def _check_writable(output: Path) -> None:
    formats = Image.registered_extensions()
    if formats.get(output.suffix.lower()) not in Image.SAVE:
        writable = sorted(suffix for suffix in IMAGE_SUFFIXES if formats.get(suffix) in Image.SAVE)
        raise InpaintError(f"cannot write {output}: give an output file ending in one of {', '.join(writable)}")


def _run_jobs(jobs: list[Job], model_name: str, device: str, fill: Callable) -> int:
    """Load the model, ``fill(model, image, mask, index)`` this process's share of the jobs (all of them outside
    ``accelerate launch``) and save each; report and skip the jobs that fail."""
    rank, world = process_rank()
    mine = share(jobs)
    device = process_device(device)
    if model_name in AUTO_NAMES:
        model, reason = load_auto(AUTO_NAMES[model_name], device=device)
        print(reason, file=sys.stderr)
    else:
        model = load_model(model_name, device=device)
    label = "inpainting" if world == 1 else f"inpainting [process {rank + 1}/{world}]"
    failures = []
    for index, (image_path, mask_path, out_path) in tqdm(mine, desc=label, unit="image", position=rank,
                                                         disable=len(jobs) == 1):
        try:
            if mask_path is None:
                raise InpaintError(f"no mask for {image_path.name} (a mask file named {image_path.stem}.*)")
            result = fill(model, open_image(image_path), open_image(mask_path, "mask"), index)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            to_pil(result).save(out_path)
        except InpaintError as error:
            if len(jobs) == 1:
                raise
            failures.append(image_path.name)
            tqdm.write(f"skipped {image_path}: {error}", file=sys.stderr)
    where = jobs[0][2] if len(jobs) == 1 else jobs[0][2].parent
    print(f"wrote {len(mine) - len(failures)} image(s) to {where}"
          + (f" (process {rank + 1} of {world})" if world > 1 else ""))
    if failures:
        print(f"error: {len(failures)} of {len(mine)} image(s) skipped: {', '.join(failures)}", file=sys.stderr)
        return PARTIAL
    return 0


def _inpaint(args) -> int:
    options = _options(args, InpaintOptions, InpaintOptions.specs())
    jobs = _jobs(args.image, args.mask, args.output)

    def fill(model, image, mask, index: int) -> torch.Tensor:
        result = inpaint_detailed(model, image, mask, options=replace(options, seed=options.seed + index),
                                  extras=False)  # the seed follows the file: the same result in any share
        for note in result.notes:
            tqdm.write(f"{jobs[index][0].name}: {note}", file=sys.stderr)
        return result.image

    return _run_jobs(jobs, args.model, args.device, fill)


def _faces(args) -> int:
    face_options = _options(args, FaceOptions, FaceOptions.specs())
    options = _options(args, InpaintOptions, FACE_PIPELINE_OPTIONS)
    jobs = _jobs(args.image, args.mask, args.output)
    return _run_jobs(jobs, args.model, args.device, lambda model, image, mask, index: inpaint_faces(
        model, image, mask, face_options=face_options, options=replace(options, seed=options.seed + index)).image)


#: What ``list`` says of the bundled networks that ``auto`` runs offline (the default ``--model`` is ``auto``).
_OFFLINE_ROLES = {BUNDLED["scene"]: "  (auto, offline)",
                  BUNDLED["face"]: "  (auto-face, offline; and auto's faces)"}


def _list(args) -> int:
    ready = ready_models()
    sections = {
        "ready (offline, no download)": ready,
        "downloaded on first use": [name for name in list_models("weights") if name not in ready],
        "presets without trained weights (ic.build_model, training)": [
            name for name in preset_names() if split_preset_name(name)[0].needs_weights],
    }
    for title, names in sections.items():
        print(f"{title}:")
        for name in names or ["(none)"]:
            print(f"  {name}{_OFFLINE_ROLES.get(name, '')}")
    return 0


def _convert(args) -> int:
    print(f"wrote {convert_checkpoint(args.family, args.source, args.destination)}")
    return 0
