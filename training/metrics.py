"""Image-quality metrics of the evaluation protocol (:mod:`training.evaluate`).

They live in ``training`` rather than ``inpaint_core`` because SSIM uses scikit-image, a training-only dependency.
All take uint8 RGB arrays ``[H, W, 3]`` (the protocol scores 8-bit PNG round trips):

- L1: mean absolute error on [0, 1] over all pixels and channels (tables show it x 100, as %);
- PSNR: on [0, 1] (data range 1);
- SSIM: ``skimage.metrics.structural_similarity`` with its defaults, i.e. a **7x7 uniform window** (not the Gaussian
  sigma 1.5 window of Wang et al., which gives higher numbers), data range 255, mean over the three channels;
- LPIPS (AlexNet, v0.1, the ``lpips`` package) and FID (Inception pool3, ``pytorch-fid``) only when the package and its
  network weights are already on this machine: nothing is downloaded; :func:`optional_metrics` says why one is off.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import structural_similarity

#: File names the two packages look for in torch's hub cache (``torch.hub.get_dir()/checkpoints``).
LPIPS_BACKBONE = "alexnet-owt-7be5be79.pth"
FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"


def l1(output: np.ndarray, target: np.ndarray) -> float:
    return float(np.abs(output.astype(np.float64) - target.astype(np.float64)).mean() / 255)


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    mse = float(((output.astype(np.float64) - target.astype(np.float64)) / 255).__pow__(2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    return float(structural_similarity(target, output, channel_axis=2, data_range=255))


def _hub_file(name: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def _shown(path: Path) -> str:
    """``path`` with the home folder as ``~`` (reports are pasted into model cards)."""
    return str(path).replace(str(Path.home()), "~", 1)


def optional_metrics() -> tuple[dict[str, object], list[str]]:
    """``({"lpips": scorer, "fid": feature extractor}, [why each missing one is off])`` for those available locally."""
    found: dict[str, object] = {}
    notes: list[str] = []
    try:
        import lpips
    except ImportError:
        notes.append(
            "LPIPS off: the `lpips` package is not installed (pip install lpips, and put AlexNet's "
            f"{LPIPS_BACKBONE} in {_shown(_hub_file(''))})"
        )
    else:
        if _hub_file(LPIPS_BACKBONE).is_file():
            found["lpips"] = lpips.LPIPS(net="alex", version="0.1", verbose=False).eval()
        else:
            notes.append(f"LPIPS off: AlexNet weights {_shown(_hub_file(LPIPS_BACKBONE))} are not on this machine")
    try:
        from pytorch_fid.inception import InceptionV3
    except ImportError:
        notes.append(
            f"FID off: the `pytorch-fid` package is not installed (and needs {FID_WEIGHTS} in {_shown(_hub_file(''))})"
        )
    else:
        if _hub_file(FID_WEIGHTS).is_file():
            found["fid"] = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
        else:
            notes.append(f"FID off: Inception weights {_shown(_hub_file(FID_WEIGHTS))} are not on this machine")
    return found, notes


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


@torch.no_grad()
def lpips_scores(scorer, outputs: list[np.ndarray], targets: list[np.ndarray]) -> list[float]:
    return scorer(to_tensor(outputs) * 2 - 1, to_tensor(targets) * 2 - 1).flatten().tolist()


@torch.no_grad()
def inception_features(extractor, images: list[np.ndarray]) -> np.ndarray:
    return extractor(to_tensor(images))[0].flatten(1).double().numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets (rows = samples); small sets give biased values: compare only at equal N."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root.real))
