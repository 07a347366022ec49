"""Crop every hole region for any sampler or image model, and stitch the results back: thin V3 schemas over
:mod:`.logic` (the work is ``inpaint_core.regions``)."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core import InputError
from ..inpaint_core.options import InpaintOptions
from ..inpaint_core.regions import PREFILLS
from . import logic, runtime
from .model_nodes import CATEGORY, InpaintGANModel
from .option_widgets import option_widgets

#: What Stitch needs to paste the crops back (``inpaint_core.regions.StitchRecord``).
StitchRecord = io.Custom("INPAINT_GAN_STITCH")
MODEL_PREFILL = "model"


class CropRegions(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_CropRegions",
            display_name="Crop Hole Regions",
            category=f"{CATEGORY}/regions",
            description=(
                "Cuts every masked region of every image (with context around it) into one image batch, scaled to "
                "target_size and padded to a multiple, for any sampler or image node; Stitch Hole Regions pastes "
                "the processed batch back. Optionally pre-fills the holes (OpenCV, grey, or a GAN connected to "
                "'model' with prefill = model)."
            ),
            inputs=[
                io.Image.Input("image"),
                io.Mask.Input("mask", tooltip="1 = inpaint; each connected region becomes one crop"),
                *option_widgets(InpaintOptions, ("margin",)),
                io.Int.Input("target_size", default=512, min=0, max=8192, step=8,
                             tooltip="Longer side of every crop after scaling; 0 keeps each crop's size"),
                io.Int.Input("padding_multiple", default=8, min=1, max=256,
                             tooltip="The crops' sides are padded up to a multiple of this (8 for latent models)"),
                io.Combo.Input("prefill", options=[*PREFILLS, MODEL_PREFILL], default="none",
                               tooltip="Fill the holes before cropping; 'model' uses the connected model"),
                *option_widgets(InpaintOptions, ("threshold",)),
                InpaintGANModel.Input("model", optional=True, tooltip="For prefill = model"),
            ],
            outputs=[
                io.Image.Output(display_name="crops"),
                io.Mask.Output(display_name="masks"),
                StitchRecord.Output(display_name="stitch"),
            ],
        )

    @classmethod
    def execute(cls, image, mask, margin: int, target_size: int, padding_multiple: int, prefill: str,
                threshold: float, model=None) -> io.NodeOutput:
        options = dict(margin=margin, target_size=target_size, multiple=padding_multiple, threshold=threshold)
        if prefill != MODEL_PREFILL:
            return io.NodeOutput(*logic.crop_holes(image, mask, prefill=prefill, **options))
        if model is None:
            raise InputError("prefill is 'model' but no model is connected: connect a Load Inpaint GAN Model")
        with logic.model_on(model, runtime.compute_device(), runtime.offload_device()):
            return io.NodeOutput(*logic.crop_holes(image, mask, prefill=model, **options))


class StitchRegions(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_StitchRegions",
            display_name="Stitch Hole Regions",
            category=f"{CATEGORY}/regions",
            description=(
                "Pastes the crops of Crop Hole Regions back, processed by anything that keeps their order and "
                "aspect (an upscale is undone). Only the holes and a feather_pixels band around them change; where "
                "regions overlap, the first region's pixels win."
            ),
            inputs=[
                StitchRecord.Input("stitch"),
                io.Image.Input("crops", tooltip="The crops of Crop Hole Regions, processed"),
                *option_widgets(InpaintOptions, ("feather_pixels", "color_match")),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, stitch, crops, feather_pixels: float, color_match: bool) -> io.NodeOutput:
        return io.NodeOutput(logic.stitch_holes(stitch, crops, feather_pixels, color_match))
