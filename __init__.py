"""ComfyUI entry point of the Inpaint GAN node pack.

ComfyUI executes this file as a package from its path; Python users import ``inpaint_core`` instead. Importing it
has no side effect: ComfyUI's call to ``comfy_entrypoint`` registers the ``inpaint`` models folder and lists the
nodes. Outside ComfyUI (pytest collects this folder as a package because of this file) there is nothing to expose.
"""

try:
    from .nodes import comfy_entrypoint
except ModuleNotFoundError as error:
    if error.name != "comfy_api":
        raise
else:
    __all__ = ["comfy_entrypoint"]
