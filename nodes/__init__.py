"""The ComfyUI nodes (V3 API): a thin layer over ``inpaint_core``. ComfyUI imports this through the pack's root
``__init__.py``; every import here is relative, because ComfyUI owns the top-level name ``nodes``."""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from . import runtime
from .example_nodes import ExampleImage
from .face_nodes import FaceCrop, FaceStitch
from .mask_nodes import AdjustMask, CleanMask, ExtendCanvas, GenerateMask, PreFill
from .model_nodes import Inpaint, LoadModel
from .region_nodes import CropRegions, StitchRegions

NODES: list[type[io.ComfyNode]] = [
    LoadModel, Inpaint, CropRegions, StitchRegions, ExtendCanvas, AdjustMask, CleanMask, GenerateMask, PreFill,
    FaceCrop, FaceStitch, ExampleImage,
]


class InpaintGANExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODES)


async def comfy_entrypoint() -> InpaintGANExtension:
    """Called once by ComfyUI when it loads the pack: registers the ``inpaint`` models folder, lists the nodes."""
    runtime.register_models_folder()
    return InpaintGANExtension()
