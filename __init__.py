"""ComfyUI entry point of the Inpaint GAN node pack.

ComfyUI executes this file as a package from its path; Python users import ``inpaint_core`` instead. Importing it
has no side effect: ComfyUI's call to ``comfy_entrypoint`` registers the ``inpaint`` models folder and lists the
nodes. Outside ComfyUI there is nothing to expose: pytest imports this file as the package of the folder when the
folder's name is a Python identifier (``p``), and as a bare module, with no parent package to import from, when it
is not (``comfyui-inpaint-gan``, the name ``git clone`` gives); both must import cleanly.
"""

if __package__:
    try:
        from .nodes import comfy_entrypoint
    except ModuleNotFoundError as error:
        if error.name != "comfy_api":
            raise
    else:
        __all__ = ["comfy_entrypoint"]
