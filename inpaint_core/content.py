"""A face network for faces and a scene network elsewhere, chosen per image by face detection.

:class:`ByContent` is what ``auto`` loads when it falls back to the bundled networks: the pipeline asks it
(:meth:`ByContent.choose`) which network fills each image, on the whole image before any crop or resize. An image
whose holes lie mostly inside detected faces (at least ``face_share`` of the hole pixels inside the faces' aligned
squares, :func:`inpaint_core.faces.aligned_box`) goes to the face network, every other one to the scene network, and
the choice is written to :attr:`inpaint_core.pipeline.InpaintResult.notes` and logged.

Detection is OpenCV's Haar cascade with the hole pre-filled (:func:`inpaint_core.faces.detect_faces`): frontal faces
of at least ``min_face`` pixels; a profile, or a face mostly covered by the hole, is not found and gets the scene
network. The face network runs through the pipeline on the whole image like any other; for small faces in a large
photo the face crop (:func:`inpaint_core.inpaint_faces`) frames each face as its network was trained.
"""

from __future__ import annotations

import logging

import torch

from .errors import InputError
from .faces import aligned_box, detect_faces, detection_available
from .models.base import InpaintModel

#: Share of the hole pixels that must lie inside detected faces for the face network to fill an image.
FACE_SHARE = 0.5
LOG = logging.getLogger(__name__)


class ByContent(InpaintModel):
    """Two loaded networks, ``scene`` and ``face``, and the rule that picks one per image (see the module doc)."""

    family = "auto"
    chooses_per_image = True

    def __init__(self, scene: InpaintModel, face: InpaintModel, *, labels: tuple[str, str] | None = None,
                 face_share: float = FACE_SHARE, min_face: int = 32) -> None:
        if not 0 < face_share <= 1:
            raise InputError(f"face_share must be in (0, 1], got {face_share}")
        super().__init__(config=None)
        self.scene, self.face = scene, face
        self.face_share, self.min_face = face_share, min_face
        #: What notes and the name call the two networks (their catalog names; by default ``family.preset``).
        self.labels = labels or (scene.name, face.name)
        self.working_size = scene.working_size
        self.size_multiple = max(scene.size_multiple, face.size_multiple)

    @property
    def name(self) -> str:
        return f"auto ({self.labels[0]} for scenes, {self.labels[1]} for faces)"

    def choose(self, image: torch.Tensor, hole: torch.Tensor) -> tuple[InpaintModel, str]:
        """``(network, reason)`` for one image ``[1, 3, H, W]`` and its binary hole ``[1, 1, H, W]``."""
        if not detection_available():
            return self.scene, f"{self.labels[0]} (this OpenCV cannot detect faces, so every image is a scene)"
        faces = detect_faces(image[0], hole[0], min_face=self.min_face)
        inside = torch.zeros_like(hole[0, 0], dtype=torch.bool)
        height, width = inside.shape
        for top, left, bottom, right in (aligned_box(face) for face in faces):
            inside[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
        holes = hole[0, 0] > 0
        share = (holes & inside).sum().item() / max(holes.sum().item(), 1)
        if faces and share >= self.face_share:
            return self.face, f"{self.labels[1]}: {share:.0%} of the hole is inside the {_faces(faces)} found"
        found = f"{_faces(faces)} found, holding {share:.0%} of the hole" if faces else "no face found"
        return self.scene, f"{self.labels[0]}: {found}"

    def predict_outputs(self, image: torch.Tensor, hole: torch.Tensor,
                        generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Each image of the batch by the network :meth:`choose` picks for it (direct use; the pipeline chooses on
        the whole image instead, before it crops)."""
        outputs = []
        for index in range(image.shape[0]):
            network, reason = self.choose(image[index : index + 1], hole[index : index + 1])
            LOG.info("auto: %s", reason)
            outputs.append(network.predict_outputs(image[index : index + 1], hole[index : index + 1],
                                                   generator)["image"])
        return {"image": torch.cat(outputs)}


def _faces(found: list) -> str:
    return "1 face" if len(found) == 1 else f"{len(found)} faces"
