"""inpaint_core: GAN image inpainting networks (CTSDG, DeepFillv2 / progressive, MDRN, ISFRNet) behind one API.

Images are float in [0, 1] ``[B, 3, H, W]``; hole masks ``[B, 1, H, W]`` with 1 = fill. Importing this package opens
no network connection and imports neither ComfyUI, Gradio nor accelerate.
"""

from . import models  # noqa: F401  (registers the families)
from .api import convert_checkpoint, list_models, load_auto, load_model, ready_models
from .auto import AUTO_NAMES, choose_model
from .catalog import DEFAULT_MODEL, WeightsEntry, get_weights_entry
from .errors import InpaintError, InputError, UnknownModelError, WeightsError
from .faces import inpaint_faces
from .models.base import InpaintModel
from .options import STRATEGIES, FaceOptions, InpaintOptions
from .pipeline import InpaintResult, inpaint, inpaint_detailed
from .registry import build_model
from .weights import load_model_file, save_model

__version__ = "0.1.0"

__all__ = [
    "AUTO_NAMES",
    "DEFAULT_MODEL",
    "STRATEGIES",
    "FaceOptions",
    "InpaintError",
    "InpaintModel",
    "InpaintOptions",
    "InpaintResult",
    "InputError",
    "UnknownModelError",
    "WeightsEntry",
    "WeightsError",
    "build_model",
    "choose_model",
    "convert_checkpoint",
    "get_weights_entry",
    "inpaint",
    "inpaint_detailed",
    "inpaint_faces",
    "list_models",
    "load_auto",
    "load_model",
    "load_model_file",
    "ready_models",
    "save_model",
]
