"""Face crop and stitch around any inpainting step: thin V3 schemas over :mod:`.logic`."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core.faces import ALIGNED_MARGIN
from . import logic
from .model_nodes import CATEGORY

#: Where each face crop came from (``logic.FaceCrops``), from Face Crop to Face Stitch.
FaceCrops = io.Custom("INPAINT_GAN_FACE_CROPS")


class FaceCrop(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_FaceCrop",
            display_name="Face Crop (for face inpainting)",
            category=f"{CATEGORY}/faces",
            description=(
                "Finds each face that holds a hole (OpenCV's Haar cascade, nothing to download), frames it as the "
                "aligned faces MDRN and ISFRNet were trained on, and crops it at the network's size. Inpaint the "
                "crops, then paste them back with Face Stitch."
            ),
            inputs=[
                io.Image.Input("image"),
                io.Mask.Input("mask", tooltip="1 = inpaint"),
                io.Int.Input("size", default=256, min=64, max=2048, step=8, tooltip="Side of the crops"),
                io.Boolean.Input("assume_aligned", default=False,
                                 tooltip="The image already is an aligned face: skip detection, use all of it"),
                io.Float.Input("margin", default=ALIGNED_MARGIN, min=0.0, max=1.0, step=0.01,
                               tooltip="Context added on each side of a detection, in face-box sides"),
                io.Int.Input("min_face", default=32, min=8, max=2048, tooltip="Smallest face side in pixels"),
            ],
            outputs=[
                io.Image.Output(display_name="faces"),
                io.Mask.Output(display_name="masks"),
                FaceCrops.Output(display_name="crops"),
            ],
        )

    @classmethod
    def execute(cls, image, mask, size: int, assume_aligned: bool, margin: float, min_face: int) -> io.NodeOutput:
        return io.NodeOutput(*logic.crop_faces(image, mask, size, assume_aligned=assume_aligned, margin=margin,
                                               min_face=min_face))


class FaceStitch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_FaceStitch",
            display_name="Face Stitch",
            category=f"{CATEGORY}/faces",
            description="Pastes inpainted face crops back into the image; only the masked pixels change.",
            inputs=[
                FaceCrops.Input("crops"),
                io.Image.Input("faces", tooltip="The crops of Face Crop, inpainted"),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, crops, faces) -> io.NodeOutput:
        return io.NodeOutput(logic.stitch_faces(crops, faces))
