"""The few things the nodes take from ComfyUI itself: the ``inpaint`` models folders, devices, memory, progress."""

from __future__ import annotations

import os

import comfy.model_management as model_management
import comfy.utils
import folder_paths
import torch

from .logic import Progress

FOLDER = "inpaint"


def register_models_folder() -> None:
    """Create ``models/inpaint`` when missing and add it to ComfyUI's ``inpaint`` folders, keeping the paths users
    (or other packs) set."""
    path = os.path.join(folder_paths.models_dir, FOLDER)
    os.makedirs(path, exist_ok=True)
    folder_paths.add_model_folder_path(FOLDER, path)


def weights_files() -> list[str]:
    return folder_paths.get_filename_list(FOLDER)


def models_dirs() -> list[str]:
    return folder_paths.get_folder_paths(FOLDER)


def weights_path(name: str) -> str:
    return folder_paths.get_full_path_or_raise(FOLDER, name)


def compute_device() -> torch.device:
    return model_management.get_torch_device()


def offload_device() -> torch.device:
    return model_management.unet_offload_device()


def make_room(model: torch.nn.Module, activations: int, device: torch.device) -> None:
    """Ask ComfyUI to free memory on ``device`` for the weights and ``activations`` bytes (as core's upscaler)."""
    model_management.free_memory(model_management.module_size(model) + activations, device)


def check_interrupted() -> None:
    """Raise ComfyUI's interruption when the user pressed Cancel."""
    model_management.throw_exception_if_processing_interrupted()


def progress_bar() -> Progress:
    """A ``progress(done, total)`` callback that updates a ComfyUI progress bar and raises when the user cancels."""
    bar = comfy.utils.ProgressBar(1)

    def report(done: int, total: int) -> None:
        bar.update_absolute(done, total)
        check_interrupted()

    return report
