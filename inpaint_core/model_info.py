"""What a model name stands for, in words a picker can show: its kind (scene, face, classical), whether it is
bundled, already on this machine or a download, its size and its licence. Nothing here opens a connection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .catalog import catalog
from .hub import cached_weights
from .registry import is_preset_name, split_preset_name

KINDS = ("scene", "face", "classical")
#: Between a name and its description in a label; :func:`name_of_label` splits there.
SEPARATOR = " · "


@dataclass(frozen=True)
class ModelInfo:
    name: str
    #: ``"scene"``, ``"face"`` (aligned faces) or ``"classical"`` (no weights).
    kind: str
    #: ``"bundled"`` (ships with the package), ``"cached"`` (on this machine), ``"download"`` or ``"ready"``
    #: (no weights needed).
    status: str
    size_bytes: int | None
    license: str

    @property
    def label(self) -> str:
        """``name · status · kind · size · licence``, e.g. ``psp-ffhq-encode · download 1.2 GB · face · ...``."""
        status, *rest = self.details.split(SEPARATOR)
        return SEPARATOR.join([self.name, status, self.kind, *rest])

    @property
    def details(self) -> str:
        """``status · size · licence`` (a download's size follows its status: ``download 1.2 GB · ...``)."""
        if self.size_bytes and self.status == "download":
            return SEPARATOR.join([f"download {format_size(self.size_bytes)}", self.license])
        size = [format_size(self.size_bytes)] if self.size_bytes else []
        return SEPARATOR.join([self.status, *size, self.license])


def model_info(name: str, models_dirs: Iterable[str | Path] = ()) -> ModelInfo | None:
    """The description of a catalog name or an engine preset; None for anything else (files, Hub repo ids)."""
    entry = catalog().get(name)
    if entry is not None:
        if entry.bundled is not None:
            status = "bundled"
        else:
            status = "cached" if cached_weights(entry, models_dirs) is not None else "download"
        return ModelInfo(name, entry.subject, status, entry.size_bytes, short_license(entry.license))
    if is_preset_name(name) and not split_preset_name(name)[0].needs_weights:
        return ModelInfo(name, "classical", "ready", None, "no weights")
    return None


def name_of_label(label: str) -> str:
    """The model name a :attr:`ModelInfo.label` (or a plain name) stands for."""
    return label.split(SEPARATOR, 1)[0].strip()


def short_license(text: str) -> str:
    """The licence's first clause (``"research use only: trained on ..."`` -> ``"research use only"``)."""
    return text.split(":", 1)[0].split(";", 1)[0].strip()


def format_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
