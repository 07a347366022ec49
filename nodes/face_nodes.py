"""Face crop and stitch around any inpainting step: thin V3 schemas over :mod:`.logic`."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core.options import FaceOptions
from . import logic
from .model_nodes import CATEGORY
from .option_widgets import option_widgets

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
                *option_widgets(FaceOptions, ("assume_aligned", "margin", "min_face")),
            ],
            outputs=[
                io.Image.Output(display_name="faces"),
                io.Mask.Output(display_name="masks"),
                FaceCrops.Output(display_name="crops"),
            ],
        )

    @classmethod
    def execute(cls, image, mask, size: int, **widgets) -> io.NodeOutput:
        return io.NodeOutput(*logic.crop_faces(image, mask, size, FaceOptions.resolve(None, **widgets)))


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
