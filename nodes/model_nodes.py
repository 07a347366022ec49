"""Load a model and inpaint with it: thin V3 schemas over :mod:`.logic`."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core import STRATEGIES
from . import logic, runtime

CATEGORY = "inpaint_gan"
#: The model socket type: an ``inpaint_core.InpaintModel`` on the CPU between runs.
InpaintGANModel = io.Custom("INPAINT_GAN_MODEL")


class LoadModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        choices = logic.model_choices(runtime.weights_files(), runtime.models_dirs())
        return io.Schema(
            node_id="InpaintGAN_LoadModel",
            display_name="Load Inpaint GAN Model",
            category=f"{CATEGORY}/loaders",
            description=(
                "Loads an inpainting network. Each choice says what it is: bundled (ships with the pack, works "
                "offline), cached (downloaded before) or a download (its size), face (aligned faces: use Face Crop) "
                "or scene, and its licence; classical OpenCV engines need no weights; then .safetensors files in "
                "models/inpaint. A download shows in the progress bar; offline or without a network the error says "
                "at once which file to put where."
            ),
            inputs=[
                io.Combo.Input("model_name", options=choices, default=choices[0],
                               tooltip="name · bundled / cached / download (size) · face / scene / classical · size "
                                       "· licence; then .safetensors files in models/inpaint"),
                io.String.Input("hub_repo_id", default="", optional=True,
                                tooltip="Any Hugging Face repo holding model.safetensors (owner/name or "
                                        "owner/name@revision); when set it is used instead of model_name"),
            ],
            outputs=[InpaintGANModel.Output(display_name="model")],
        )

    @classmethod
    def validate_inputs(cls, model_name: str, hub_repo_id: str = "") -> bool | str:
        return True if hub_repo_id.strip() else logic.check_choice(model_name, runtime.weights_files())

    @classmethod
    def execute(cls, model_name: str, hub_repo_id: str = "") -> io.NodeOutput:
        model = logic.load_choice(model_name, hub_repo_id, find_file=runtime.weights_path,
                                  models_dirs=runtime.models_dirs(), progress=runtime.progress_bar())
        return io.NodeOutput(model)


class Inpaint(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InpaintGAN_Inpaint",
            display_name="Inpaint (GAN)",
            category=CATEGORY,
            description=(
                "Fills the masked pixels (mask 1 = fill) with the network. 'crop' inpaints each hole region in a box "
                "with context around it at the network's size and stitches it back; 'resize' scales the whole image; "
                "'original' runs at full size. Known pixels outside the hole and its feather band are kept exactly."
            ),
            inputs=[
                InpaintGANModel.Input("model"),
                io.Image.Input("image"),
                io.Mask.Input("mask", tooltip="1 = inpaint. One mask for every image, or one per image"),
                io.Combo.Input("strategy", options=list(STRATEGIES), default="crop"),
                io.Int.Input("context_margin", default=64, min=0, max=2048, step=8,
                             tooltip="crop: pixels of context around each hole region"),
                io.Float.Input("feather", default=8.0, min=0.0, max=256.0, step=1.0,
                               tooltip="Pixels outside the hole over which the result blends into the image"),
                io.Boolean.Input("color_match", default=False,
                                 tooltip="Match the fill's colour statistics to the known pixels around the hole"),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=False,
                             tooltip="Drives networks with randomness (no bundled one has any); it stays as set, "
                                     "so ComfyUI reuses the result of an unchanged run"),
                io.Float.Input("mask_threshold", default=0.1, min=0.01, max=1.0, step=0.01, optional=True,
                               tooltip="Mask values at or above this are holes; softer values only blend"),
                io.Int.Input("working_size", default=0, min=0, max=4096, step=8, optional=True,
                             tooltip="resize/crop: the size the network sees; 0 = the network's own"),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Image.Output(display_name="extra",
                                tooltip="The network's intermediate output: CTSDG's edge map, the coarse stage of "
                                        "DeepFill and MDRN; black for networks without one"),
            ],
        )

    @classmethod
    def execute(cls, model, image, mask, strategy: str, context_margin: int, feather: float, color_match: bool,
                seed: int, mask_threshold: float = 0.1, working_size: int = 0) -> io.NodeOutput:
        device = runtime.compute_device()
        runtime.make_room(model, logic.activation_bytes(model, image, strategy, working_size), device)
        on_device = logic.model_on(model, device, runtime.offload_device())
        with on_device, logic.interruptible(model, runtime.check_interrupted):
            output, extra = logic.run_inpaint(
                model, image, mask, strategy=strategy, margin=context_margin, feather_pixels=feather,
                color_match=color_match, threshold=mask_threshold, working_size=working_size, seed=seed,
                progress=runtime.progress_bar(),
            )
        return io.NodeOutput(output, extra)
