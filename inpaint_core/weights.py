"""Safetensors weights files that carry their own model description (one file = one loadable model).

Metadata keys: ``format`` (``inpaint_core``), ``format_version``, ``family``, ``preset`` and ``config`` (JSON of the
family's config dataclass). Loading is strict: every key of the model must be in the file and nothing else, with its
shape, a floating-point dtype for floating-point parameters (any precision: it is cast) and finite values. The model
the metadata describes is first built on the ``meta`` device and compared with the file's header, so a file whose
config lies about the model's size is refused before any memory is allocated; a header longer than
``MAX_HEADER_BYTES`` is refused before it is parsed.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .configs import config_from_dict, config_to_dict
from .errors import WeightsError
from .models.base import InpaintModel
from .registry import get_family

FORMAT = "inpaint_core"
FORMAT_VERSION = 1
#: Our headers take kilobytes (the largest model's, psp.ffhq, under 100 kB); safetensors itself allows 100 MB.
MAX_HEADER_BYTES = 16 * 2**20
#: errno values of a write that ran out of room (a full disk, a file size limit, a quota).
DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_FLOAT_DTYPES = {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"}


def save_model(
    model: InpaintModel, path: str | Path, *, dtype: torch.dtype | None = None, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``model`` to ``path`` atomically; ``dtype`` (e.g. ``torch.float16``) casts floating-point tensors."""
    state = {}
    for key, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu")
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        state[key] = tensor.contiguous().clone()
    description = state_dict_metadata(model)
    header = {
        **(metadata or {}),
        **{key: str(value or "") for key, value in description.items() if key != "config"},
        "config": json.dumps(description["config"], sort_keys=True),
    }
    path = Path(path)
    write_atomically(path, lambda tmp: save_file(state, str(tmp), metadata=header))
    return path


def write_atomically(path: Path, write) -> None:
    """Call ``write(tmp)`` next to ``path``, fsync, then rename over ``path``: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, SafetensorError) as error:
        if not is_disk_full(error):
            raise
        raise WeightsError(
            f"cannot write {path}: no space left on its disk ({error}); free some space or write it elsewhere "
            "(nothing was written)"
        ) from error
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (an ``OSError``, or safetensors' error wrapping one) says the disk or a size limit is full."""
    if isinstance(error, OSError):
        return error.errno in DISK_FULL
    text = str(error)
    return any(f"code: {code}," in text for code in DISK_FULL) or "No space left" in text


def read_metadata(path: str | Path) -> dict[str, str]:
    """The safetensors metadata of ``path``; a :class:`WeightsError` naming the fix if the file is not readable."""
    return _read_header(Path(path))[0]


def _read_header(path: Path) -> tuple[dict[str, str], dict[str, tuple[tuple[int, ...], bool]]]:
    """The metadata and, per tensor, (shape, is floating point), read from the header only."""
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        with open(path, "rb") as handle:
            prefix = handle.read(8)
        size = path.stat().st_size
        length = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else 0
        if not 0 < length <= min(MAX_HEADER_BYTES, size - 8):
            if prefix[:2] == b"PK" or prefix[:1] == b"\x80":  # a zip (torch.save, TorchScript) or a raw pickle
                raise WeightsError(
                    f"{path} is a PyTorch pickle or TorchScript file, not safetensors: it is not loaded (pickles can "
                    "run code). If it is an official release checkpoint, convert it with "
                    "inpaint_core.convert_checkpoint"
                )
            raise ValueError(f"its header claims {length} bytes; the file has {size} and a header at most "
                             f"{MAX_HEADER_BYTES}")
        with safe_open(str(path), framework="pt") as handle:
            tensors = {}
            for key in handle.keys():  # noqa: SIM118  (a safe_open handle is not iterable)
                piece = handle.get_slice(key)
                tensors[key] = (tuple(piece.get_shape()), piece.get_dtype() in _FLOAT_DTYPES)
            return dict(handle.metadata() or {}), tensors
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(_corrupt_message(path, error)) from error


def load_model_file(
    path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> InpaintModel:
    """Build the model described by a weights file's metadata and load its tensors strictly."""
    path = Path(path)
    metadata, header = _read_header(path)
    if metadata.get("format") != FORMAT or "family" not in metadata:
        raise WeightsError(
            f"{path} is not an inpaint_core weights file (its metadata names no model family). If it is an official "
            "release checkpoint, convert it once with inpaint_core.convert_checkpoint(family, src, dst)."
        )
    version = metadata.get("format_version", "0")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise WeightsError(
            f"{path} has weights format version {version}; this inpaint_core reads up to {FORMAT_VERSION}: upgrade it"
        )
    family = get_family(metadata["family"])
    try:
        config = config_from_dict(family.config_cls, json.loads(metadata["config"]))
    except (KeyError, ValueError, TypeError) as error:
        raise WeightsError(f"{path}: the config in its metadata does not fit {family.name}: {error}") from error
    preset = metadata.get("preset") or None
    try:
        with torch.device("meta"):  # the model the metadata describes, without allocating it
            skeleton = family.model_cls(config, preset=preset)
    except (ValueError, TypeError, RuntimeError) as error:
        raise WeightsError(f"{path}: its config does not build a {family.name} model: {error}") from error
    _check_match(skeleton, header, str(path))
    model = family.model_cls(config, preset=preset)
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(_corrupt_message(path, error)) from error
    load_state_dict_strict(model, state, source=str(path))
    return model.to(device=device, dtype=dtype).eval()


def load_state_dict_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """``load_state_dict(strict=True)`` with keys, shapes, dtypes and finiteness checked first, and an error that
    lists what differs."""
    _check_match(model, {k: (tuple(v.shape), v.is_floating_point()) for k, v in state.items()}, source)
    broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise WeightsError(
            f"{source} holds NaN or infinite values in {len(broken)} tensor(s) (first: {', '.join(broken[:5])}): "
            "the training run that wrote it diverged, or the file was damaged; use another checkpoint"
        )
    model.load_state_dict(state, strict=True)


def _check_match(model: torch.nn.Module, tensors: dict[str, tuple[tuple[int, ...], bool]], source: str) -> None:
    """Raise a :class:`WeightsError` listing the keys missing, unexpected or of another shape or kind of dtype."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    mismatched = [
        f"{k}: file {tensors[k][0]} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(tensors))
        if tuple(own[k].shape) != tensors[k][0]
    ]
    wrong_kind = [k for k in sorted(set(own) & set(tensors)) if own[k].is_floating_point() != tensors[k][1]]
    if missing or unexpected or mismatched or wrong_kind:
        parts = [f"{source} does not match {type(model).__name__}:"]
        for label, items in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("shape mismatch", mismatched),
            ("integer where floating point is expected, or the reverse", wrong_kind),
        ):
            if items:
                parts.append(f"{len(items)} {label} (first: {', '.join(items[:5])})")
        raise WeightsError(" ".join(parts))


def _corrupt_message(path: Path, error: Exception) -> str:
    return (
        f"weights file {path} is corrupt or truncated ({error}). Delete it and download it again; "
        "a download that was interrupted leaves no file behind, so a partial file was copied by hand."
    )


def state_dict_metadata(model: InpaintModel) -> dict[str, Any]:
    """The metadata that :func:`save_model` writes, as a dict (for config.json next to a Hub upload)."""
    return {
        "family": model.family,
        "preset": model.preset,
        "config": config_to_dict(model.config),
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
    }
