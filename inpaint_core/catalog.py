"""Named trained weights: where each file lives, which model it is, and under which licence it may be used.

Only entries whose files really exist are listed. A ``bundled`` entry ships inside the package (``inpaint_core/
weights/``) and resolves offline; the others are downloaded from the Hugging Face Hub at a pinned revision and checked
against their sha256. An entry whose ``source_format`` names a family is an official release checkpoint, converted
once to safetensors after download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UnknownModelError

BUNDLED_DIR = Path(__file__).parent / "weights"
#: Licence of the weights we trained on UTKFace (bundled): the data is for non-commercial research only.
UTKFACE_LICENSE = (
    "research use only: trained on UTKFace, which is for non-commercial research and whose images remain the "
    "copyright of their owners"
)
UTKFACE_TRAIN = "UTKFace aligned and cropped faces, train split (15,000 images of 200x200)"
#: Licence of the weights we trained on the scene photos: every source set is for research use.
SCENES_LICENSE = (
    "research use only: trained on public research datasets (BSDS500, CamVid, SUN, COCO samples, Kodak, McMaster, "
    "PolyU) whose images are for non-commercial research and remain the copyright of their owners"
)
SCENES_TRAIN = (
    "4,461 scene photos (BSDS500 train/test, CamVid, SUN scenes, COCO 2017 samples, Kodak, McMaster, PolyU clean; "
    "none of them in the scene evaluation sets), longest side 320"
)
#: The model the nodes and the app preselect: a bundled network, so it works offline on a fresh install.
DEFAULT_MODEL = "mdrn-compact-utkface"


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
    #: File name inside ``inpaint_core/weights`` for weights shipped with the package (its model card: ``.md``).
    bundled: str | None = None
    #: ``"safetensors"`` or the family whose converter turns the downloaded checkpoint into ours.
    source_format: str = "safetensors"
    #: What the weights were trained on and are for: ``"face"`` (aligned faces) or ``"scene"`` (any picture).
    subject: str = "scene"
    #: Size of the file a download fetches, in bytes, where known (bundled files are measured on disk).
    download_bytes: int | None = None
    #: Set when ``repo_id`` is a third party's copy: what it mirrors (the official release's location).
    mirror: str | None = None
    #: Set when ``revision`` or ``sha256`` is unknown: what is not pinned or checked, said to the user before download.
    unpinned: str | None = None

    @property
    def size_bytes(self) -> int | None:
        """The file's size: on disk for bundled weights, ``download_bytes`` for the others."""
        if self.bundled is not None:
            path = BUNDLED_DIR / self.bundled
            return path.stat().st_size if path.is_file() else None
        return self.download_bytes

    @property
    def local_filename(self) -> str:
        """The file name the models folder holds this entry under."""
        return f"{self.name}.safetensors"

    @property
    def card(self) -> Path | None:
        """The model card of bundled weights (data, training, evaluation, the command that reproduces them)."""
        return None if self.bundled is None else (BUNDLED_DIR / self.bundled).with_suffix(".md")

    def download_notice(self) -> str:
        """One paragraph a host shows before downloading: source, size, licence and what is not pinned."""
        if self.repo_id is None:
            return f"{self.name} is bundled with the package. Licence: {self.license}."
        size = f", {self.download_bytes / 1e6:,.1f} MB" if self.download_bytes else ""
        parts = [f"{self.name} downloads {self.filename} from the Hugging Face Hub repo {self.repo_id}{size}."]
        if self.mirror:
            parts.append(f"That repo is a {self.mirror}.")
        if self.unpinned:
            parts.append(f"Not pinned: {self.unpinned}.")
        parts.append(f"Licence: {self.license}.")
        return " ".join(parts)

    def url(self, endpoint: str = "https://huggingface.co") -> str | None:
        if self.repo_id is None:
            return None
        return f"{endpoint}/{self.repo_id}/resolve/{self.revision or 'main'}/{self.filename}"


_CATALOG: dict[str, WeightsEntry] = {}
#: Catalog names become file names (``<name>.safetensors`` in models folders and the package).
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,99}$")


def validate_weights_name(name: str) -> str:
    """``name`` if it is a safe catalog name (lower-case letters, digits, ``_ . -``; no path parts), else raise."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"weights name {name!r} must be lower-case letters, digits, '_', '.' or '-' (no '..')")
    return name


def register_weights(entry: WeightsEntry) -> WeightsEntry:
    validate_weights_name(entry.name)
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
