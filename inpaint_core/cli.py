"""Command line: inpaint an image or a folder, list the models, convert an official checkpoint.

python -m inpaint_core inpaint photo.png mask.png -o out.png --model opencv.telea
python -m inpaint_core inpaint photos/ masks/ -o results/        # masks matched by file name
python -m inpaint_core list
python -m inpaint_core convert ctsdg official.pt ctsdg-celeba.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from .api import convert_checkpoint, list_models, load_auto, load_model, ready_models
from .auto import AUTO_NAMES
from .catalog import DEFAULT_MODEL
from .errors import InpaintError
from .image_ops import open_image, to_pil
from .options import STRATEGIES
from .pipeline import inpaint

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except InpaintError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint-gan", description="GAN image inpainting (mask: white = fill).")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("inpaint", help="inpaint an image, or every image of a folder")
    run.add_argument("image", type=Path, help="an image file, or a folder of images")
    run.add_argument("mask", type=Path, help="a mask file (white = fill), or a folder of masks with the images' names")
    run.add_argument("-o", "--output", type=Path, required=True, help="output file, or folder for a folder input")
    run.add_argument("--model", default="auto",
                     help="catalog name, preset, file or Hub repo id; auto / auto-face (default: auto) pick the "
                          "strongest downloaded or downloadable scene / face network, else the bundled "
                          f"{DEFAULT_MODEL}")
    run.add_argument("--strategy", choices=STRATEGIES, default="crop")
    run.add_argument("--margin", type=int, default=64, help="context pixels around each hole (crop)")
    run.add_argument("--feather", type=float, default=0, help="blend width in pixels outside the hole")
    run.add_argument("--color-match", action="store_true", help="match colours to the known pixels around holes")
    run.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    run.add_argument("--seed", type=int, default=0)
    run.set_defaults(run=_inpaint)

    show = commands.add_parser("list", help="list the model names")
    show.set_defaults(run=_list)

    convert = commands.add_parser("convert", help="convert an official release checkpoint to safetensors")
    convert.add_argument("family")
    convert.add_argument("source", type=Path)
    convert.add_argument("destination", type=Path)
    convert.set_defaults(run=_convert)
    return parser


def _pairs(image: Path, mask: Path, output: Path) -> list[tuple[Path, Path, Path]]:
    if not image.is_dir():
        return [(image, mask, output)]
    images = sorted(p for p in image.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise InpaintError(f"no images in {image}")
    if not mask.is_dir():
        return [(p, mask, output / f"{p.stem}.png") for p in images]
    masks = {p.stem: p for p in mask.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    missing = [p.name for p in images if p.stem not in masks]
    if missing:
        raise InpaintError(f"no mask in {mask} for {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    return [(p, masks[p.stem], output / f"{p.stem}.png") for p in images]


def _inpaint(args) -> int:
    jobs = _pairs(args.image, args.mask, args.output)
    if args.model in AUTO_NAMES:
        model, reason = load_auto(AUTO_NAMES[args.model], device=args.device)
        print(reason, file=sys.stderr)
    else:
        model = load_model(args.model, device=args.device)
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    for image_path, mask_path, out_path in tqdm(jobs, desc="inpainting", unit="image", disable=len(jobs) == 1):
        result = inpaint(
            model,
            open_image(image_path),
            open_image(mask_path, "mask"),
            args.strategy,
            margin=args.margin,
            feather_pixels=args.feather,
            color_match=args.color_match,
            generator=generator,
        )
        out_path.parent.mkdir(parents=True, exist_ok=True)
        to_pil(result).save(out_path)
    print(f"wrote {len(jobs)} image(s) to {args.output}")
    return 0


def _list(args) -> int:
    ready = set(ready_models())
    for name in list_models():
        print(f"{name}{'  (ready offline)' if name in ready else ''}")
    return 0


def _convert(args) -> int:
    print(f"wrote {convert_checkpoint(args.family, args.source, args.destination)}")
    return 0
