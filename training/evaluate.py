"""Score models in one protocol for every model: the tables of the README, the docs and the model cards.

Protocol: each image is resized (shorter side) and centre-cropped to 256x256; masks are nearest-resized to 256, and
their hole ratio is measured **at 256**; masks are put in buckets by that ratio (``lo < r <= hi``: 0-20/20-40/40-60
% and/or 10 % steps). In each bucket, ``per_bucket`` masks are taken evenly spread over the bucket's whole sorted
list (the NVIDIA files come in blocks ordered by ratio and border contact, so the first N would be the easiest), and
paired in order with ``per_bucket`` images spread evenly over the sorted image list (the same images in every
bucket). The model's raw prediction is composited with the known pixels, rounded to 8 bits, and scored against the
original: L1 (%), PSNR, SSIM (7x7 uniform window), plus LPIPS and FID where available (``training.metrics``).

    python -m training.evaluate --models opencv.telea runs/x/final/model.safetensors \\
        --images ../shared/data/faces/utkface/images --file_list ../shared/data/faces/utkface/eval.txt \\
        --masks ../shared/data/masks/nvidia_irregular/png --per_bucket 100 --out eval/utk
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

import inpaint_core as ic
from inpaint_core.models.base import InpaintModel
from inpaint_core.pipeline import network_input
from training import metrics
from training.data import list_images, load_image, load_mask

SIZE = 256


def parse_buckets(widths: str) -> list[tuple[int, int]]:
    """``"20,10"`` -> [(0, 20), (20, 40), (40, 60), (0, 10), ..., (50, 60)] (percent, up to 60 %)."""
    buckets: list[tuple[int, int]] = []
    for width in (int(w) for w in str(widths).split(",") if w.strip()):
        if width <= 0 or 60 % width:
            raise ValueError(f"bucket width must divide 60, got {width}")
        buckets += [(lo, lo + width) for lo in range(0, 60, width)]
    return buckets


def bucket_label(bucket: tuple[int, int]) -> str:
    return f"{bucket[0]}-{bucket[1]}%"


def spread(items: Sequence, count: int) -> list:
    """``count`` items evenly spread over the whole of ``items`` (the middle of each of ``count`` equal parts)."""
    if not items:
        return []
    return [items[min(len(items) - 1, int((i + 0.5) * len(items) / count))] for i in range(count)]


def mask_ratios(files: list[Path], size: int = SIZE, cache_dir: Path | None = None) -> dict[str, float]:
    """Hole ratio of every mask at ``size``, cached by (folder, size, file list) because a full NVIDIA set takes
    about half a minute to measure."""
    cache_dir = cache_dir or Path(os.environ.get("INPAINT_CACHE", Path.home() / ".cache" / "inpaint_core"))
    resolved = [str(f.resolve()) for f in files]
    identity = ["nearest", size, resolved]  # how they were resized is part of the key
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
    cache = cache_dir / f"mask_ratios_{key}.json"
    if cache.is_file():  # keyed by resolved path: the same masks named relatively or absolutely share one cache
        ratios = json.loads(cache.read_text())
    else:
        ratios = {path: float(load_mask(f, size).mean()) for path, f in zip(resolved, files)}
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(ratios))
    return {str(f): ratios[path] for path, f in zip(resolved, files)}


def select_pairs(
    images: list[Path], masks: list[Path], bucket: tuple[int, int], per_bucket: int, ratios: dict[str, float]
) -> list[tuple[Path, Path]]:
    lo, hi = bucket[0] / 100, bucket[1] / 100
    members = [m for m in masks if lo < ratios[str(m)] <= hi]
    return list(zip(spread(images, per_bucket), spread(members, per_bucket))) if members else []


def _to_uint8(tensor: torch.Tensor) -> np.ndarray:
    return (tensor.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _predict(model: InpaintModel, image: torch.Tensor, hole: torch.Tensor, hide_hole: bool) -> torch.Tensor:
    """The model's float32 prediction from the whole image, or with ``hide_hole`` from what the pipeline shows it."""
    hole = hole.to(model.dtype)
    if hide_hole:
        return model.predict(network_input(image, hole).to(model.dtype), hole).float()
    model.check_input(image, hole)
    return model.predict_unhidden(image.to(model.dtype), hole)["image"].float()


@torch.inference_mode()
def score_model(
    model: InpaintModel,
    pairs: list[tuple[Path, Path]],
    optional: dict,
    batch_size: int = 8,
    device: str = "cpu",
    hide_hole: bool = False,
) -> dict[str, float]:
    """Mean metrics of ``model`` over ``pairs`` (image, mask) in the protocol above; ``hide_hole`` gives the model
    what ``inpaint_core``'s pipeline gives it (``network_input``: the hole hidden) instead of the whole image (the
    official tests' input: CTSDG's Canny edges near the hole then carry a little of what it hides)."""
    outputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        image = torch.stack([load_image(p, SIZE, None) for p, _ in chunk]).to(device)
        hole = torch.stack([load_mask(m, SIZE) for _, m in chunk]).to(device)
        prediction = _predict(model, image, hole, hide_hole)
        composite = image * (1 - hole) + prediction * hole
        outputs += [_to_uint8(c) for c in composite]
        targets += [_to_uint8(t) for t in image]
    result = {
        "n": len(pairs),
        "l1": float(np.mean([metrics.l1(o, t) for o, t in zip(outputs, targets)])),
        "psnr": float(np.mean([metrics.psnr(o, t) for o, t in zip(outputs, targets)])),
        "ssim": float(np.mean([metrics.ssim(o, t) for o, t in zip(outputs, targets)])),
    }
    result["l1_percent"] = 100 * result["l1"]
    if "lpips" in optional:
        result["lpips"] = float(np.mean(metrics.lpips_scores(optional["lpips"], outputs, targets)))
    if "fid" in optional:
        result["fid"] = metrics.frechet_distance(
            metrics.inception_features(optional["fid"], outputs), metrics.inception_features(optional["fid"], targets)
        )
    return result


def evaluate_models(
    models: dict[str, InpaintModel | str],
    *,
    images: str | Path,
    file_list: str | Path = "",
    masks: str | Path,
    mask_list: str | Path = "",
    per_bucket: int = 50,
    bucket_widths: str = "20",
    device: str = "cpu",
    batch_size: int = 8,
    contact_sheet: str | Path | None = None,
    sheet_rows: int = 2,
    hide_hole: bool = False,
) -> dict:
    """Results of every model in every bucket, with the protocol recorded next to them (JSON-able); with
    ``contact_sheet``, also a PNG of ``sheet_rows`` pairs per bucket (see :func:`write_contact_sheet`)."""
    image_files = list_images(images, file_list)
    mask_files = list_images(masks, mask_list)
    ratios = mask_ratios(mask_files)
    optional, notes = metrics.optional_metrics()
    buckets = parse_buckets(bucket_widths)
    pairs = {bucket_label(b): select_pairs(image_files, mask_files, b, per_bucket, ratios) for b in buckets}
    notes += [
        f"no mask of {masks} has a hole ratio in {label} at {SIZE}x{SIZE}: bucket left out"
        for label, chosen in pairs.items()
        if not chosen
    ]
    pairs = {label: chosen for label, chosen in pairs.items() if chosen}
    loaded = {name: ic.load_model(m, device=device) if isinstance(m, str) else m for name, m in models.items()}
    score = functools.partial(score_model, optional=optional, batch_size=batch_size, device=device,
                              hide_hole=hide_hole)
    results = {name: {label: score(m, chosen) for label, chosen in pairs.items()} for name, m in loaded.items()}
    if contact_sheet is not None:
        shown = [pair for chosen in pairs.values() for pair in spread(chosen, min(sheet_rows, len(chosen)))]
        write_contact_sheet(loaded, shown, contact_sheet, device, hide_hole)
    return {
        "protocol": {
            "size": SIZE,
            "images": str(images),
            "file_list": str(file_list),
            "masks": str(masks),
            "per_bucket": per_bucket,
            "buckets": list(pairs),
            "ssim": "skimage, 7x7 uniform window",
            "composite": True,
            "uint8": True,
            "hole_ratio": f"measured at {SIZE}x{SIZE}",
            "model_input": "the pipeline's (hole hidden)" if hide_hole else "the whole image (the official tests')",
        },
        "notes": notes,
        "models": results,
    }


@torch.inference_mode()
def write_contact_sheet(
    models: dict[str, InpaintModel],
    pairs: list[tuple[Path, Path]],
    path: str | Path,
    device: str = "cpu",
    hide_hole: bool = False,
) -> Path:
    """A PNG grid, one row per (image, mask) pair: input with the hole in white | each model's composite | ground
    truth, at 256x256 as scored, with the column titles on top."""
    import cv2

    rows = []
    for image_path, mask_path in pairs:
        image = load_image(image_path, SIZE, None)[None].to(device)
        hole = load_mask(mask_path, SIZE)[None].to(device)
        tiles = [image * (1 - hole) + hole]
        for model in models.values():
            prediction = _predict(model, image, hole, hide_hole)
            tiles.append(image * (1 - hole) + prediction * hole)
        tiles.append(image)
        rows.append(np.concatenate([_to_uint8(t[0]) for t in tiles], axis=1))
    titles = ["input", *models, "ground truth"]
    header = np.full((28, SIZE * len(titles), 3), 255, np.uint8)
    for index, title in enumerate(titles):
        cv2.putText(header, title[:30], (SIZE * index + 6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([header, *rows], axis=0), cv2.COLOR_RGB2BGR))
    return path


_ROWS = (
    ("l1_percent", "L1 (%) ↓", "{:.2f}"),
    ("psnr", "PSNR ↑", "{:.2f}"),
    ("ssim", "SSIM ↑", "{:.4f}"),
    ("lpips", "LPIPS ↓", "{:.4f}"),
    ("fid", "FID ↓", "{:.2f}"),
)


def markdown_table(results: dict) -> str:
    """Metrics as rows, hole-ratio buckets as columns, one line per model: the layout of the published tables."""
    models = results["models"]
    buckets = results["protocol"]["buckets"]
    n = results["protocol"]["per_bucket"]
    lines = [f"| Metric | Model | {' | '.join(buckets)} |", "|---|---|" + "---:|" * len(buckets)]
    for key, title, fmt in _ROWS:
        shown = [name for name in models if all(key in models[name][b] for b in buckets)]
        for index, name in enumerate(shown):
            cells = " | ".join(fmt.format(models[name][b][key]) for b in buckets)
            lines.append(f"| {title if index == 0 else ''} | {name} | {cells} |")
    lines.append("")
    lines.append(f"{n} images per bucket at {SIZE}x{SIZE}, composited, 8-bit; SSIM: 7x7 uniform window.")
    lines += [f"{note}." for note in results["notes"]]
    return "\n".join(lines) + "\n"


def write_report(results: dict, folder: str | Path) -> str:
    """``results.json`` and ``results.md`` in ``folder``; returns the Markdown."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown_table(results)
    (folder / "results.md").write_text(table)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models",
        nargs="+",
        required=True,
        help="model names or paths (ic.load_model: weights file, catalog name, Hub repo id, opencv.telea); "
        "LABEL=MODEL names a model in the table",
    )
    parser.add_argument("--images", required=True, help="folder of evaluation images")
    parser.add_argument("--file_list", default="", help="text file of image paths relative to --images")
    parser.add_argument("--masks", required=True, help="folder of mask images, white = hole")
    parser.add_argument("--mask_list", default="", help="text file of mask paths relative to --masks")
    parser.add_argument("--per_bucket", type=int, default=100, help="images per hole-ratio bucket")
    parser.add_argument("--buckets", default="20,10", help="bucket widths in percent: 20 and/or 10")
    parser.add_argument("--out", default="eval", help="folder for results.json and results.md")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--sheet", type=int, default=0,
                        help="also write contact_sheet.png in --out with this many pairs per bucket (0: none)")
    parser.add_argument("--hide_hole", action="store_true",
                        help="give each model the image as inpaint_core's pipeline does (hole zeroed or Telea-filled) "
                        "instead of the whole image (CTSDG's Canny edges then see nothing of the hole)")
    args = parser.parse_args(argv)
    models = dict(m.split("=", 1) if "=" in m else (m, m) for m in args.models)
    results = evaluate_models(
        models,
        images=args.images,
        file_list=args.file_list,
        masks=args.masks,
        mask_list=args.mask_list,
        per_bucket=args.per_bucket,
        bucket_widths=args.buckets,
        device=args.device,
        batch_size=args.batch_size,
        contact_sheet=Path(args.out) / "contact_sheet.png" if args.sheet else None,
        sheet_rows=args.sheet,
        hide_hole=args.hide_hole,
    )
    print(write_report(results, args.out))


if __name__ == "__main__":
    main()
