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
        return io.Schema(
            node_id="InpaintGAN_LoadModel",
            display_name="Load Inpaint GAN Model",
            category=f"{CATEGORY}/loaders",
            description=(
                "Loads an inpainting network: a catalog name (downloaded once from the Hugging Face Hub into its "
                "cache unless the file is already in models/inpaint), an OpenCV engine that needs no weights, or a "
                ".safetensors file in models/inpaint. Offline (HF_HUB_OFFLINE=1) the error says which file to put "
                "where."
            ),
            inputs=[
                io.Combo.Input("model_name", options=logic.model_choices(runtime.weights_files()),
                               default="auto",
                               tooltip="auto / auto-face: the strongest scene / face network that is downloaded, "
                                       "else (online) downloaded now, else the bundled one (the console says which); "
                                       "then the bundled default, catalog weights, OpenCV engines and .safetensors "
                                       "files in models/inpaint"),
                io.String.Input("hub_repo_id", default="", optional=True,
                                tooltip="Any Hugging Face repo holding model.safetensors (owner/name or "
                                        "owner/name@revision); when set it is used instead of model_name"),
            ],
            outputs=[InpaintGANModel.Output(display_name="model")],
        )

    @classmethod
    def execute(cls, model_name: str, hub_repo_id: str = "") -> io.NodeOutput:
        model = logic.load_choice(model_name, hub_repo_id, find_file=runtime.weights_path,
                                  models_dirs=runtime.models_dirs())
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
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True),
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
        with logic.model_on(model, device, runtime.offload_device()):
            output, extra = logic.run_inpaint(
                model, image, mask, strategy=strategy, margin=context_margin, feather_pixels=feather,
                color_match=color_match, threshold=mask_threshold, working_size=working_size, seed=seed,
                progress=runtime.progress_bar(),
            )
        return io.NodeOutput(output, extra)
