"""Node widgets built from ``inpaint_core``'s option fields: the widget's id is the option's name, and its default,
range, step and tooltip are the option's (``inpaint_core.options``)."""

from __future__ import annotations

from comfy_api.latest import io


def option_widgets(options_cls, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[io.Input]:
    """A widget for each option in ``names`` of ``options_cls`` (``InpaintOptions`` or ``FaceOptions``), in order."""
    specs = options_cls.specs()
    widgets = []
    for name in names:
        item, spec = specs[name]
        common = {"default": item.default, "tooltip": spec.help, "optional": name in optional}
        kind = str(item.type)
        if spec.choices:
            widgets.append(io.Combo.Input(name, options=list(spec.choices), **common))
        elif kind == "bool":
            widgets.append(io.Boolean.Input(name, **common))
        elif kind == "int":
            # no randomize/fixed control after the seed: it stays as set (no bundled network is random, and an
            # unchanged run is then served from ComfyUI's cache)
            seed = {"control_after_generate": False} if name == "seed" else {}
            widgets.append(io.Int.Input(name, min=int(spec.minimum), max=int(spec.maximum), step=int(spec.step),
                                        **seed, **common))
        else:
            widgets.append(io.Float.Input(name, min=spec.minimum, max=spec.maximum, step=spec.step, **common))
    return widgets
