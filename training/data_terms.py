"""The terms of known training sets, so that a model card states the licence the data allows (a model trained on
UTKFace is for research only, whatever the code's licence)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inpaint_core.catalog import SCENES_LICENSE, SCENES_TRAIN, UTKFACE_LICENSE, UTKFACE_TRAIN


@dataclass(frozen=True)
class DataTerms:
    #: The data in a few words (a card's title) and in a sentence.
    short: str
    description: str
    #: The Hub's ``license`` metadata value (``other`` when no standard licence fits) and the terms in words.
    hub_license: str
    license: str


#: Known data sets by a folder name of their path, lower case.
KNOWN_DATA = {
    "utkface": DataTerms("UTKFace faces", UTKFACE_TRAIN, "other", UTKFACE_LICENSE),
    "scenes_train": DataTerms("scene photos", SCENES_TRAIN, "other", SCENES_LICENSE),
    "celeba": DataTerms("CelebA faces", "CelebA / CelebA-HQ", "other", "research use only (CelebA's terms)"),
    "ffhq": DataTerms("FFHQ faces", "FFHQ", "cc-by-nc-sa-4.0", "CC BY-NC-SA 4.0 (FFHQ's dataset licence)"),
    "places": DataTerms("Places365 scenes", "Places365", "other", "research use only (Places365's terms)"),
}

UNKNOWN_TERMS = "not stated: the weights follow the terms of their training data; pass --hub.license to state them"


def terms_of(root: str | Path) -> DataTerms | None:
    """The terms of the known data set ``root`` lies in (matched on its folder names), or None."""
    parts = [part.lower() for part in Path(root).parts]
    return next((terms for key, terms in KNOWN_DATA.items() for part in parts if part.startswith(key)), None)


def card_license(license: str, root: str | Path) -> tuple[str, str]:
    """``(Hub metadata value, words)`` for a model card: ``license`` when given, else the training data's terms."""
    if license:
        return license, license
    terms = terms_of(root)
    return (terms.hub_license, terms.license) if terms else ("other", UNKNOWN_TERMS)
