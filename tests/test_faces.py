"""Face crop: detection (when OpenCV has its Haar cascades), aligned framing, crop / paste geometry, assume_aligned."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import inpaint_core as ic
from inpaint_core import faces
from inpaint_core.errors import InpaintError, InputError
from inpaint_core.models.base import InpaintModel

needs_cascade = pytest.mark.skipif(not faces.detection_available(), reason="this OpenCV has no Haar cascades (5.x)")


class Constant(InpaintModel):
    """Predicts one grey everywhere and records the size of every input it sees."""

    family = "test-constant"
    size_multiple = 1
    working_size = 64

    def __init__(self) -> None:
        super().__init__(None)
        self.seen: list[tuple[int, ...]] = []

    def predict_outputs(self, image, hole, generator=None):
        self.seen.append(tuple(image.shape))
        return {"image": torch.full_like(image, 0.25)}


def _drawn_face(size: int) -> np.ndarray:
    """A blurred cartoon face (hair, brows, eyes, nose bridge, mouth) that the frontal-face cascade detects."""
    img = np.full((size, size), 60, np.uint8)

    def c(*values):
        return tuple(round(v * size / 256) for v in values)

    cv2.ellipse(img, c(128, 140), c(80, 100), 0, 0, 360, 190, -1)
    cv2.ellipse(img, c(128, 60), c(90, 50), 0, 180, 360, 40, -1)
    for x in (95, 161):
        cv2.ellipse(img, c(x, 105), c(22, 7), 0, 0, 360, 120, -1)
        cv2.ellipse(img, c(x, 100), c(22, 5), 0, 180, 360, 50, -1)
        cv2.ellipse(img, c(x, 120), c(16, 9), 0, 0, 360, 40, -1)
    cv2.ellipse(img, c(128, 160), c(12, 6), 0, 0, 360, 130, -1)
    cv2.line(img, c(128, 120), c(128, 155), 215, max(1, size // 40))
    cv2.ellipse(img, c(128, 195), c(30, 10), 0, 0, 360, 70, -1)
    return cv2.GaussianBlur(img, (0, 0), 3 * size / 256)


def _scene_with_face(top: int = 40, left: int = 90, side: int = 120) -> torch.Tensor:
    scene = np.random.default_rng(0).integers(90, 140, (200, 320), dtype=np.uint8)
    scene[top : top + side, left : left + side] = _drawn_face(side)
    return torch.from_numpy(np.repeat(scene[None], 3, 0)).float()[None] / 255


def test_aligned_box_matches_the_measured_framing():
    # a 168-px detection centred at (141.5, 128) of a 256 aligned face gives back (about) the 256 frame
    top, left, bottom, right = faces.aligned_box((57, 44, 225, 212))
    assert bottom - top == right - left
    assert abs(bottom - top - 256) <= 2 and abs(top) <= 2 and abs(left) <= 2


@needs_cascade
@pytest.mark.parametrize("side", [100, 160])
def test_detects_a_drawn_face_and_frames_it(side):
    image = _scene_with_face(top=30, left=100, side=side)
    detections = faces.detect_faces(image[0])
    assert len(detections) == 1
    top, left, bottom, right = faces.aligned_box(detections[0])
    # the aligned square holds the drawn face's features and is not much larger than the drawing
    assert top <= 30 + 0.35 * side and bottom >= 30 + 0.85 * side
    assert left <= 100 + 0.3 * side and right >= 100 + 0.7 * side
    assert 0.9 * side <= bottom - top <= 1.6 * side


@needs_cascade
def test_inpaint_faces_fills_the_hole_in_a_detected_face():
    image = _scene_with_face()
    hole = torch.zeros(1, 1, 200, 320)
    hole[..., 110:130, 130:170] = 1  # the mouth
    model = Constant()
    result = faces.inpaint_faces(model, image, hole)
    assert model.seen == [(1, 3, 64, 64)]
    assert torch.equal(result.hole, hole)
    assert torch.equal(result.image * (1 - hole), image * (1 - hole))
    assert torch.allclose(result.image[..., 110:130, 130:170], torch.tensor(0.25))


@needs_cascade
def test_no_face_is_a_clear_error():
    image = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    hole = torch.zeros(1, 1, 96, 96)
    hole[..., 40:50, 40:50] = 1
    with pytest.raises(InputError, match="assume_aligned=True"):
        faces.inpaint_faces(Constant(), image, hole)


@pytest.mark.skipif(faces.detection_available(), reason="OpenCV has its Haar cascades")
def test_missing_cascades_name_the_fix():
    image, hole = torch.rand(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)
    hole[..., 10:20, 10:20] = 1
    with pytest.raises(InpaintError, match="assume_aligned=True"):
        faces.inpaint_faces(Constant(), image, hole)


def test_crop_and_paste_geometry(monkeypatch):
    image = torch.rand(1, 3, 120, 160, generator=torch.Generator().manual_seed(1))
    hole = torch.zeros(1, 1, 120, 160)
    hole[..., 5:15, 5:25] = 1  # in a face that reaches out of the image (padded crop)
    hole[..., 60:70, 100:110] = 1  # in two overlapping faces: filled once
    hole[..., 100:110, 60:70] = 1  # in no face: left as it is
    detections = [(50, 90, 80, 120), (40, 80, 70, 110), (-10, -10, 20, 20), (0, 130, 20, 150)]
    monkeypatch.setattr(faces, "detect_faces", lambda *args, **kwargs: detections)
    model = Constant()
    result = faces.inpaint_faces(model, image, hole, margin=0.5)
    # face 2 only holds holes that face 1 filled, face 4 holds none
    assert len(model.seen) == 2 and all(shape == (1, 3, 64, 64) for shape in model.seen)
    filled = torch.zeros_like(hole)
    filled[..., 5:15, 5:25] = 1
    filled[..., 60:70, 100:110] = 1
    assert torch.equal(result.hole, filled)
    assert torch.allclose(result.image[filled.expand_as(image) > 0], torch.tensor(0.25))
    assert torch.equal(result.image[filled.expand_as(image) == 0], image[filled.expand_as(image) == 0])


@pytest.mark.parametrize("shape", [(96, 96), (80, 120)])
def test_assume_aligned_pads_to_a_square_and_resizes(shape):
    generator = torch.Generator().manual_seed(2)
    image = torch.rand(1, 3, *shape, generator=generator)
    hole = torch.zeros(1, 1, *shape)
    hole[..., 30:50, 40:60] = 1
    model = Constant()
    result = faces.inpaint_faces(model, image, hole, assume_aligned=True)
    assert model.seen == [(1, 3, 64, 64)]
    assert torch.equal(result.image * (1 - hole), image * (1 - hole))
    assert torch.allclose(result.image[..., 30:50, 40:60], torch.tensor(0.25))
    telea = faces.inpaint_faces(ic.load_model("opencv.telea"), image, hole, assume_aligned=True, feather_pixels=2)
    assert telea.image.shape == image.shape and not torch.equal(telea.image, image)


def test_empty_hole_returns_the_image():
    image = torch.rand(2, 3, 64, 64)
    result = faces.inpaint_faces(Constant(), image, torch.zeros(2, 1, 64, 64))
    assert torch.equal(result.image, image) and not result.hole.any()


def test_extras_of_face_crops_are_collected_only_when_asked():
    image = torch.rand(1, 3, 48, 80, generator=torch.Generator().manual_seed(4))
    hole = torch.zeros(1, 1, 48, 80)
    hole[..., 10:30, 30:50] = 1
    model = ic.build_model("deepfill.tiny").eval()
    kept = faces.inpaint_faces(model, image, hole, assume_aligned=True, seed=1)
    dropped = faces.inpaint_faces(model, image, hole, assume_aligned=True, seed=1, extras=False)
    assert set(kept.extras) == {"coarse"} and kept.extras["coarse"].shape[-2:] == image.shape[-2:]
    assert dropped.extras == {} and torch.equal(dropped.image, kept.image)
