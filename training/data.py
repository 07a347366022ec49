"""Training data: images from any folder, resized and cropped to the working size, each paired with a random hole.

Everything random about a sample (crop, flip, mask) comes from a ``torch.Generator`` seeded by ``(seed, epoch,
index)``, and the order of the samples from one seeded by ``(seed, epoch)``. The data position is therefore a
function of the step alone: a resumed run sees exactly the batches an uninterrupted one would, on any number of
processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from inpaint_core.masks import MASK_GENERATORS, load_mask_file
from inpaint_core.masks.generators import MaskFn

from .schema import DataConfig, MaskConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def seeded(*keys: int) -> torch.Generator:
    """A generator whose state depends on all ``keys`` (e.g. seed, epoch, index), well mixed."""
    state = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 ^ int(state[1]))


def list_images(root: str | Path, file_list: str | Path = "") -> list[Path]:
    """The images of ``root`` (recursively, sorted), or those named in ``file_list`` relative to ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    if file_list:
        names = [line.strip() for line in Path(file_list).read_text().splitlines() if line.strip()]
        if not names:
            raise ValueError(f"{file_list} lists no files")
        candidates = [root / name for name in names]
        missing = [str(p) for p in candidates if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"{len(missing)} files of {file_list} are not in {root} (first: {missing[0]})")
        return candidates
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {root}")
    return files


def load_image(
    path: Path,
    size: int,
    generator: torch.Generator | None,
    flip: bool = False,
    zoom: tuple[float, float] = (1.0, 1.0),
) -> torch.Tensor:
    """``[3, size, size]`` in [0, 1]: shorter side resized to ``size`` (times a factor drawn from the ``zoom`` range
    when there is a generator), then a random (or, without a generator, centre) crop, optionally flipped left-right
    at random."""
    with Image.open(path) as handle:
        image = handle.convert("RGB")
    width, height = image.size
    scale = size / min(width, height)
    if generator is not None:
        drawn = float(torch.rand((), generator=generator)) if zoom[1] > zoom[0] else 0.0
        scale *= zoom[0] + (zoom[1] - zoom[0]) * drawn
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    if (new_w, new_h) != (width, height):
        image = image.resize((new_w, new_h), Image.Resampling.BICUBIC)
    tensor = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float() / 255
    if generator is None:
        top, left = (new_h - size) // 2, (new_w - size) // 2
    else:
        top = int(torch.randint(0, new_h - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, new_w - size + 1, (1,), generator=generator))
    tensor = tensor[:, top : top + size, left : left + size]
    if flip and generator is not None and bool(torch.rand((), generator=generator) < 0.5):
        tensor = tensor.flip(-1)
    return tensor


def load_mask(path: Path, size: int, invert: bool = False) -> torch.Tensor:
    """``[1, size, size]`` binary hole from a mask file (white = hole unless ``invert``), nearest-resized."""
    return load_mask_file(path, (size, size), invert)[None]


def parse_mix(spec: str) -> dict[str, float]:
    """``"free_form=0.5,files=0.5"`` -> normalised weights."""
    weights: dict[str, float] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, sep, weight = part.partition("=")
        if not sep:
            raise ValueError(f"mask mix entry {part!r} must be name=weight")
        weights[name.strip()] = float(weight)
    total = sum(weights.values())
    if not weights or total <= 0 or min(weights.values()) < 0:
        raise ValueError(f"mask mix {spec!r} needs at least one positive weight")
    return {name: w / total for name, w in weights.items() if w > 0}


class MaskSampler:
    """Draws a hole from a mix of generators and mask files, with the weights of ``MaskConfig.mix``."""

    def __init__(self, config: MaskConfig, size: int) -> None:
        self.size = size
        self.invert = config.invert
        self.augment = config.augment
        self.weights = parse_mix(config.mix)
        available = MASK_GENERATORS
        self.sources: dict[str, MaskFn] = {}
        for name in self.weights:
            if name == "files":
                continue
            if name not in available:
                raise ValueError(f"unknown mask generator {name!r}; available: {sorted(available)} and 'files'")
            self.sources[name] = available[name]
        self.files: list[Path] = []
        if config.folder and "files" not in self.weights:
            raise ValueError(
                f"--mask.folder is set but the mask mix {config.mix!r} does not use it: add files=WEIGHT to --mask.mix"
            )
        if "files" in self.weights:
            if not config.folder:
                raise ValueError("the mask mix uses 'files' but --mask.folder is not set")
            self.files = list_images(config.folder, config.file_list)
        self.names = list(self.weights)
        self.probabilities = torch.tensor([self.weights[n] for n in self.names], dtype=torch.float64)

    def __call__(self, generator: torch.Generator) -> torch.Tensor:
        choice = self.names[int(torch.multinomial(self.probabilities, 1, generator=generator))]
        if choice != "files":
            hole = self.sources[choice](self.size, self.size, generator)
            return hole.reshape(1, self.size, self.size).float()
        path = self.files[int(torch.randint(0, len(self.files), (1,), generator=generator))]
        hole = load_mask(path, self.size, self.invert)
        if self.augment:
            turns = int(torch.randint(0, 4, (1,), generator=generator))
            hole = torch.rot90(hole, turns, dims=(-2, -1))
            if bool(torch.rand((), generator=generator) < 0.5):
                hole = hole.flip(-1)
        return hole


class InpaintingDataset(Dataset):
    """Samples keyed by ``(epoch, index)``: ``{"image": [3, S, S], "hole": [1, S, S]}``."""

    def __init__(self, config: DataConfig, masks: MaskSampler, seed: int) -> None:
        self.files = list_images(config.root, config.file_list)
        self.size = config.size
        self.random_crop = config.crop == "random"
        self.flip = config.flip
        self.zoom = (config.scale_min, config.scale_max)
        self.masks = masks
        self.seed = seed

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = key
        generator = seeded(self.seed, epoch, index)
        image = load_image(self.files[index], self.size, generator if self.random_crop else None, self.flip, self.zoom)
        if not self.random_crop and self.flip:  # keep flips random with centre crops
            image = image.flip(-1) if bool(torch.rand((), generator=generator) < 0.5) else image
        return {"image": image, "hole": self.masks(generator)}


class StepBatchSampler:
    """Infinite batches of ``(epoch, index)`` keys for one process, starting at ``start_step``.

    Each epoch is a permutation seeded by ``(seed, epoch)``, cut into global batches of ``batch_size *
    num_processes`` (the remainder is dropped); process ``rank`` takes its slice of each global batch.
    """

    def __init__(
        self, length: int, batch_size: int, seed: int, start_step: int = 0, rank: int = 0, num_processes: int = 1
    ) -> None:
        self.global_batch = batch_size * num_processes
        if length < self.global_batch:
            raise ValueError(f"{length} images are fewer than one global batch ({self.global_batch})")
        self.length, self.batch_size, self.seed = length, batch_size, seed
        self.start_step, self.rank = start_step, rank
        self.per_epoch = length // self.global_batch

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        order, order_epoch = None, -1
        while True:
            epoch, position = divmod(step, self.per_epoch)
            if epoch != order_epoch:
                order, order_epoch = torch.randperm(self.length, generator=seeded(self.seed, epoch)), epoch
            start = position * self.global_batch + self.rank * self.batch_size
            yield [(epoch, int(i)) for i in order[start : start + self.batch_size]]
            step += 1


def make_loader(
    dataset: InpaintingDataset, batch_size: int, start_step: int, rank: int, num_processes: int, num_workers: int
) -> DataLoader:
    sampler = StepBatchSampler(len(dataset), batch_size, dataset.seed, start_step, rank, num_processes)
    # The loader's own generator (it seeds the workers) keeps the global RNG untouched, so resuming draws nothing
    # from it that an uninterrupted run would not.
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=num_workers,
        pin_memory=torch.cuda.is_available(),
        generator=seeded(dataset.seed, start_step, rank),
    )
