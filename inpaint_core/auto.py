"""The ``auto`` model choice: the strongest network that is ready, or downloadable when online, for the content.

``auto`` (scenes, objects) and ``auto-face`` (faces) are names a host offers next to the real ones, never a silent
swap of a model the user picked. The ranking is a judgement from published results, not measured here (the Hub
weights could not be downloaded where this was written; see docs/lama.md and docs/migan.md):

- ``lama-big`` first: big-lama (51 M parameters) fills large holes at any resolution (its Fourier convolutions see
  the whole image); it is the default erase model of IOPaint and Krita's AI Diffusion peers.
- ``migan-places2-512`` next: MI-GAN (6 M parameters) is an order of magnitude faster, at a fixed 512.
- the bundled network for the content last (:data:`BUNDLED`: the scene network for ``auto``, the face network for
  ``auto-face``): it always works offline.

Faces use the same order: both Places2 networks fill faces far better than a Telea-like blur, and the face networks
we can load by name are no stronger on their own (pSp alone regenerates the whole face, ``docs/faces.md``; the
MI-GAN FFHQ network is not on the Hub in a PyTorch layout, so it is loaded from a converted file by path).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .catalog import DEFAULT_MODEL, WeightsEntry, get_weights_entry
from .errors import InputError
from .hub import BUNDLED_DIR, cached_weights, connection_error, endpoint, is_offline

#: The names a host offers for the automatic choice, and the content each one is for.
AUTO_NAMES = {"auto": "scene", "auto-face": "face"}
RANKING = {
    "scene": ("lama-big", "migan-places2-512"),
    "face": ("lama-big", "migan-places2-512"),
}
#: The bundled network each kind falls back to offline: the scene network trained on scene photos, the face one on
#: faces (their cards: inpaint_core/weights/).
BUNDLED = {"scene": "mdrn-compact-scenes", "face": DEFAULT_MODEL}
#: What the scene fallback adds: the face network fills the images whose hole lies inside a detected face.
SCENE_AND_FACE = f", with {BUNDLED['face']} for images whose hole is inside a detected face"
#: Seconds the automatic choice waits for the Hub's first answer before it counts as offline.
ONLINE_PROBE_TIMEOUT = 3.0
_WHY = {
    "lama-big": "big-lama, the strongest network for large holes at any size",
    "migan-places2-512": "MI-GAN 512, a strong and fast network",
}


def is_ready(entry: WeightsEntry, extra_dirs: Iterable[str | Path] = ()) -> bool:
    """True when ``entry`` loads without a download: bundled, in a models folder, converted, or in the HF cache."""
    if entry.bundled is not None:
        return (BUNDLED_DIR / entry.bundled).is_file()
    return cached_weights(entry, extra_dirs) is not None


def choose_model(kind: str = "scene", *, models_dirs: Iterable[str | Path] = (),
                 offline: bool | None = None) -> tuple[str, str]:
    """``(name, reason)``: the first ranked model for ``kind`` that is ready, or, when online (not ``offline`` and
    the Hub answers), the first ranked one (it will be downloaded); else the bundled network for ``kind``
    (:data:`BUNDLED`) with a one-line notice."""
    if kind not in RANKING:
        raise InputError(f"kind must be one of {sorted(RANKING)}, got {kind!r}")
    offline = is_offline() if offline is None else offline
    extra = list(models_dirs)
    ranked = [get_weights_entry(name) for name in RANKING[kind]]
    for entry in ranked:
        if is_ready(entry, extra):
            return entry.name, f"auto ({kind}): {entry.name}, {_WHY[entry.name]}, ready on this machine"
    if not offline and connection_error(endpoint(), timeout=ONLINE_PROBE_TIMEOUT) is None:
        entry = ranked[0]
        why = f"auto ({kind}): {entry.name}, {_WHY[entry.name]}; downloading it."
        return entry.name, f"{why} {entry.download_notice()}"
    missing, bundled = ", ".join(RANKING[kind]), BUNDLED[kind]
    also = SCENE_AND_FACE if kind == "scene" else ""
    return bundled, (f"auto ({kind}): offline (or the Hub did not answer) and none of {missing} is downloaded, so "
                     f"the bundled {kind} network {bundled} runs{also} (small networks: expect a smooth fill)")
