"""Load a model and inpaint with it: thin V3 schemas over :mod:`.logic`."""

from __future__ import annotations

from comfy_api.latest import io

from ..inpaint_core.options import InpaintOptions
from . import logic, runtime
from .option_widgets import option_widgets

CATEGORY = "inpaint_gan"
#: The model socket type: an ``inpaint_core.InpaintModel`` on the CPU between runs.
InpaintGANModel = io.Custom("INPAINT_GAN_MODEL")
#: The Inpaint node's option widgets, in the order saved workflows store their values.
INPAINT_WIDGETS = ("strategy", "margin", "feather_pixels", "color_match", "seed", "threshold", "working_size")


class LoadModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        choices = logic.model_choices(runtime.weights_files(), runtime.models_dirs())
        return io.Schema(
            node_id="InpaintGAN_LoadModel",
            display_name="Load Inpaint GAN Model",
            category=f"{CATEGORY}/loaders",
            description=(
                "Loads an inpainting network. auto / auto-face pick the strongest one that is ready or downloadable "
                "(big-lama, MI-GAN) and fall back to the bundled one offline. Each other choice says what it is: "
                "bundled (ships with the pack, works "
                "offline), cached (downloaded before) or a download (its size), face (aligned faces: use Face Crop) "
                "or scene, and its licence; classical OpenCV engines need no weights; then .safetensors files in "
                "models/inpaint. A download shows in the progress bar; offline or without a network the error says "
                "at once which file to put where."
            ),
            inputs=[
                io.Combo.Input("model_name", options=choices, default=choices[0],
                               tooltip="auto / auto-face (the default): the strongest scene / face network that is "
                                       "downloaded, else (online) downloaded now, else the bundled one (the log says "
                                       "which); then name · bundled / cached / download (size) · face / scene / "
                                       "classical · size · licence; then .safetensors files in models/inpaint"),
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
                *option_widgets(InpaintOptions, INPAINT_WIDGETS, optional=("threshold", "working_size")),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Image.Output(display_name="extra",
                                tooltip="The network's intermediate output: CTSDG's edge map, the coarse stage of "
                                        "DeepFill and MDRN; black for networks without one"),
            ],
        )

    @classmethod
    def execute(cls, model, image, mask, **widgets) -> io.NodeOutput:
        options = InpaintOptions.resolve(None, **widgets)
        device = runtime.compute_device()
        runtime.make_room(model, logic.activation_bytes(model, image, options.strategy, options.working_size), device)
        on_device = logic.model_on(model, device, runtime.offload_device())
        with on_device, logic.interruptible(model, runtime.check_interrupted):
            output, extra = logic.run_inpaint(model, image, mask, options, progress=runtime.progress_bar())
        return io.NodeOutput(output, extra)
