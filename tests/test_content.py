"""``auto``'s choice per image: the face network where the hole is inside a detected face, the scene one elsewhere."""

from __future__ import annotations

import pytest
import torch

import inpaint_core as ic
from inpaint_core import faces
from inpaint_core.content import ByContent
from inpaint_core.errors import InputError

from .test_faces import _scene_with_face

needs_cascade = pytest.mark.skipif(not faces.detection_available(), reason="this OpenCV has no Haar cascades (5.x)")


def _router() -> ByContent:
    # two classical engines stand in for the networks: their fills differ, so the output shows which one ran
    return ByContent(ic.load_model("opencv.telea"), ic.load_model("opencv.ns"), labels=("scene-net", "face-net"))


def _holes() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A drawn face in a noisy scene, a hole over its mouth, and a hole in the scene away from the face."""
    image = _scene_with_face()
    mouth, background = torch.zeros(1, 1, 200, 320), torch.zeros(1, 1, 200, 320)
    mouth[..., 110:130, 130:170] = 1
    background[..., 150:190, 10:60] = 1
    return image, mouth, background


@needs_cascade
def test_a_hole_in_a_face_gets_the_face_network_and_one_elsewhere_the_scene_network():
    router, (image, mouth, background) = _router(), _holes()
    for hole, network, label in ((mouth, router.face, "face-net"), (background, router.scene, "scene-net")):
        result = ic.inpaint_detailed(router, image, hole)
        assert result.notes[0].startswith(f"{label}:")
        assert torch.equal(result.image, ic.inpaint(network, image, hole))
    assert "100% of the hole is inside the 1 face found" in ic.inpaint_detailed(router, image, mouth).notes[0]
    assert "1 face found, holding 0% of the hole" in ic.inpaint_detailed(router, image, background).notes[0]


@needs_cascade
def test_each_image_of_a_batch_is_chosen_on_its_own():
    router, (image, mouth, _) = _router(), _holes()
    noise = torch.rand(1, 3, 200, 320, generator=torch.Generator().manual_seed(1))
    images, holes = torch.cat([image, noise, image]), torch.cat([mouth, mouth, torch.zeros_like(mouth)])
    result = ic.inpaint_detailed(router, images, holes)
    assert [note.split(":")[0] for note in result.notes] == ["face-net", "scene-net", "scene-net"]
    assert "no face found" in result.notes[1]
    assert torch.equal(result.image[0:1], ic.inpaint(router.face, image, mouth))
    assert torch.equal(result.image[1:2], ic.inpaint(router.scene, noise, mouth))
    assert torch.equal(result.image[2:3], image)  # no hole: returned as given


@needs_cascade
def test_direct_prediction_chooses_per_image_too():
    router, (image, mouth, _) = _router(), _holes()
    image, mouth = image[..., :192, :320], mouth[..., :192, :320]
    assert torch.equal(router.predict(image, mouth), router.face.predict(image, mouth))


def test_a_share_outside_zero_to_one_is_refused():
    with pytest.raises(InputError, match="face_share"):
        ByContent(ic.load_model("opencv.telea"), ic.load_model("opencv.ns"), face_share=0)


def test_offline_auto_loads_the_bundled_scene_network_with_the_face_network_for_faces(tmp_path):
    model, reason = ic.load_auto("scene", models_dirs=[tmp_path], offline=True)
    assert isinstance(model, ByContent) and model.labels == ("mdrn-compact-scenes", "mdrn-compact-utkface")
    assert "mdrn-compact-utkface for images whose hole is inside a detected face" in reason
    assert model.scene.family == model.face.family == "mdrn" and model.working_size == 256
    face, _ = ic.load_auto("face", models_dirs=[tmp_path], offline=True)
    assert not isinstance(face, ByContent)  # auto-face: the face network for every image
