"""Draw every mask type of ``inpaint_core.masks`` as a PNG contact sheet (rows: types; columns: seeds).

Hole pixels are drawn white on black, with the type name and each mask's hole ratio written on it. With
``--mask-dir`` (e.g. ``../shared/data/masks/nvidia_irregular/png``) a last row shows files read by
``load_mask_file``.

    python benchmarks/mask_contact_sheet.py --out /tmp/masks.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from inpaint_core.masks import MASK_GENERATORS, load_mask_file


def _tile(mask: torch.Tensor, label: str) -> np.ndarray:
    tile = cv2.cvtColor((mask.numpy() * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    tile = cv2.copyMakeBorder(tile, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(80, 80, 80))
    for color, thickness in (((0, 0, 0), 3), ((0, 200, 255), 1)):
        cv2.putText(tile, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, thickness, cv2.LINE_AA)
    return tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("mask_contact_sheet.png"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mask-dir", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for name, fn in MASK_GENERATORS.items():
        tiles = []
        for column in range(args.columns):
            mask = fn(args.size, args.size, torch.Generator().manual_seed(args.seed + column))
            label = f"{name} {mask.mean().item():.0%}" if column == 0 else f"{mask.mean().item():.0%}"
            tiles.append(_tile(mask, label))
        rows.append(np.concatenate(tiles, axis=1))
    if args.mask_dir is not None:
        files = sorted(args.mask_dir.glob("*.png"))[:: max(1, len(list(args.mask_dir.glob("*.png"))) // args.columns)]
        tiles = []
        for path in files[: args.columns]:
            mask = load_mask_file(path, (args.size, args.size))
            tiles.append(_tile(mask, f"{path.stem} {mask.mean().item():.0%}"))
        rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, {len(rows)} rows)")


if __name__ == "__main__":
    main()
