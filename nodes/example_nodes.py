"""The example pictures of ``inpaint_core.examples`` as a node, so that the example workflows need no input file."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core.examples import EXAMPLES
from . import logic
from .model_nodes import CATEGORY


class ExampleImage(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_ExampleImage",
            display_name="Example Image (drawn, with a mask)",
            category=f"{CATEGORY}/image",
            description=(
                "A picture this pack draws itself, with its mask: a landscape with its tree masked, the same with "
                "three separate holes, a cartoon portrait with its mouth masked, the landscape at 2048x1536, or "
                "without a hole. Replace it with Load Image for your own pictures."
            ),
            inputs=[io.Combo.Input("example", options=list(EXAMPLES), default="landscape")],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="mask")],
        )

    @classmethod
    def execute(cls, example: str) -> io.NodeOutput:
        return io.NodeOutput(*logic.example_image(example))
