"""Mask and pre-fill helpers: thin V3 schemas over :mod:`.logic`."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core.masks.generators import MASK_GENERATORS, NTIRE_TYPES
from ..inpaint_core.outpaint import FILLS
from . import logic
from .model_nodes import CATEGORY


class AdjustMask(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_AdjustMask",
            display_name="Grow / Shrink / Feather Mask",
            category=f"{CATEGORY}/mask",
            description="Binarises (threshold > 0), grows (negative: shrinks) and feathers a mask, in that order.",
            inputs=[
                io.Mask.Input("mask"),
                io.Int.Input("grow", default=0, min=-512, max=512, step=1, tooltip="Pixels; negative values shrink"),
                io.Float.Input("feather", default=0.0, min=0.0, max=512.0, step=1.0,
                               tooltip="Pixels over which the mask falls to 0 outside the hole"),
                io.Float.Input("threshold", default=0.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Values at or above it become 1, the rest 0 (fixes JPEG-degraded masks); "
                                       "0 keeps the mask as it is"),
            ],
            outputs=[io.Mask.Output(display_name="mask")],
        )

    @classmethod
    def execute(cls, mask, grow: int, feather: float, threshold: float) -> io.NodeOutput:
        return io.NodeOutput(logic.adjust_mask(mask, grow, feather, threshold))


class PreFill(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_PreFill",
            display_name="Pre-fill Masked Area",
            category=f"{CATEGORY}/image",
            description="Fills the masked area with OpenCV's Telea or Navier-Stokes inpainting, or neutral grey, "
                        "for instance before a diffusion model repaints it.",
            inputs=[
                io.Image.Input("image"),
                io.Mask.Input("mask", tooltip="1 = fill"),
                io.Combo.Input("method", options=list(logic.PREFILL_METHODS), default="telea"),
                io.Int.Input("radius", default=5, min=1, max=64, tooltip="Telea / Navier-Stokes neighbourhood"),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, image, mask, method: str, radius: int) -> io.NodeOutput:
        return io.NodeOutput(logic.prefill(image, mask, method, radius))


class GenerateMask(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_GenerateMask",
            display_name="Generate Random Mask",
            category=f"{CATEGORY}/mask",
            description=(
                "Random hole masks as the networks are trained and evaluated with: the seven NTIRE 2022 types ("
                + ", ".join(NTIRE_TYPES) + ") and DeepFillv2's free-form strokes and boxes. Connect an image to take "
                "its size and batch size."
            ),
            inputs=[
                io.Combo.Input("kind", options=list(MASK_GENERATORS), default="thick"),
                io.Int.Input("width", default=512, min=8, max=8192, step=8),
                io.Int.Input("height", default=512, min=8, max=8192, step=8),
                io.Int.Input("batch_size", default=1, min=1, max=64),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True),
                io.Image.Input("image", optional=True, tooltip="When connected: its width, height and batch size"),
            ],
            outputs=[io.Mask.Output(display_name="mask")],
        )

    @classmethod
    def execute(cls, kind: str, width: int, height: int, batch_size: int, seed: int, image=None) -> io.NodeOutput:
        if image is not None:
            batch_size, height, width = image.shape[0], image.shape[1], image.shape[2]
        return io.NodeOutput(logic.generate_masks(kind, height, width, batch_size, seed))


class CleanMask(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_CleanMask",
            display_name="Clean Mask (threshold / fill holes / invert)",
            category=f"{CATEGORY}/mask",
            description="Ignores mask values below a threshold, fills the areas a painted mask encloses, and inverts "
                        "the mask, in that order and each only when asked.",
            inputs=[
                io.Mask.Input("mask"),
                io.Float.Input("ignore_below", default=0.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Values below this become 0 (stray brush marks, JPEG noise); others are kept"),
                io.Boolean.Input("fill_holes", default=False,
                                 tooltip="Set to 1 every area the mask encloses (a ring becomes a disc)"),
                io.Boolean.Input("invert", default=False, tooltip="1 - mask: inpaint everything but the painted area"),
            ],
            outputs=[io.Mask.Output(display_name="mask")],
        )

    @classmethod
    def execute(cls, mask, ignore_below: float, fill_holes: bool, invert: bool) -> io.NodeOutput:
        return io.NodeOutput(logic.clean_mask(mask, ignore_below, fill_holes, invert))


class ExtendCanvas(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_ExtendCanvas",
            display_name="Extend Canvas (outpaint)",
            category=f"{CATEGORY}/image",
            description="Adds pixels on the chosen sides and gives the mask of the new area, for the Inpaint node "
                        "(or a sampler through Crop Hole Regions) to fill: outpainting.",
            inputs=[
                io.Image.Input("image"),
                io.Int.Input("left", default=0, min=0, max=4096, step=8),
                io.Int.Input("top", default=0, min=0, max=4096, step=8),
                io.Int.Input("right", default=128, min=0, max=4096, step=8),
                io.Int.Input("bottom", default=0, min=0, max=4096, step=8),
                io.Int.Input("overlap", default=8, min=0, max=512,
                             tooltip="The mask reaches this many pixels into the image, so the seam is repainted"),
                io.Combo.Input("fill", options=list(FILLS), default="edge",
                               tooltip="What the new pixels start as: the edge pixels stretched, or grey"),
                io.Mask.Input("mask", optional=True, tooltip="A mask of the image to keep (the new area is added)"),
            ],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="mask")],
        )

    @classmethod
    def execute(cls, image, left: int, top: int, right: int, bottom: int, overlap: int, fill: str,
                mask=None) -> io.NodeOutput:
        return io.NodeOutput(*logic.extend_image(image, left, top, right, bottom, overlap=overlap, fill=fill,
                                                 mask=mask))
