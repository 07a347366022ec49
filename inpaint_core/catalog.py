"""Named trained weights: where each file lives, which model it is, and under which licence it may be used.

Only entries whose files really exist are listed. A ``bundled`` entry ships inside the package (``inpaint_core/
weights/``) and resolves offline; the others are downloaded from the Hugging Face Hub at a pinned revision and checked
against their sha256. An entry whose ``source_format`` names a family is an official release checkpoint, converted
once to safetensors after download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import UnknownModelError

BUNDLED_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class WeightsEntry:
    name: str
    family: str
    preset: str
    license: str
    data: str
    description: str = ""
    repo_id: str | None = None
    filename: str = "model.safetensors"
    #: A commit hash, so that what we checked is what users get.
    revision: str | None = None
    sha256: str | None = None
    #: File name inside ``inpaint_core/weights`` for weights shipped with the package.
    bundled: str | None = None
    #: ``"safetensors"`` or the family whose converter turns the downloaded checkpoint into ours.
    source_format: str = "safetensors"

    @property
    def local_filename(self) -> str:
        """The file name the models folder holds this entry under."""
        return f"{self.name}.safetensors"

    def url(self, endpoint: str = "https://huggingface.co") -> str | None:
        if self.repo_id is None:
            return None
        return f"{endpoint}/{self.repo_id}/resolve/{self.revision or 'main'}/{self.filename}"


_CATALOG: dict[str, WeightsEntry] = {}


def register_weights(entry: WeightsEntry) -> WeightsEntry:
    if entry.name in _CATALOG:
        raise ValueError(f"weights {entry.name!r} are registered twice")
    if (entry.bundled is None) == (entry.repo_id is None):
        raise ValueError(f"weights {entry.name!r} need exactly one of bundled and repo_id")
    _CATALOG[entry.name] = entry
    return entry


def catalog() -> dict[str, WeightsEntry]:
    return dict(_CATALOG)


def get_weights_entry(name: str) -> WeightsEntry:
    try:
        return _CATALOG[name]
    except KeyError:
        raise UnknownModelError(f"no weights named {name!r}; known: {sorted(_CATALOG)}") from None
