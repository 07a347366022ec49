"""Write the example workflows: the editor's format to ``example_workflows/`` and the API format (what ``POST /prompt``
takes) to ``tests/workflows/``, from one description of each graph below.

Run ``python scripts/build_workflows.py`` after changing a graph or a node's inputs; ``tests/test_nodes.py`` checks
that the committed files are what this script writes and that the node signatures below match the nodes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_CONTROL = "fixed"  # the value of the "control after generate" widget the editor stores after a seed


@dataclass(frozen=True)
class Signature:
    """What the editor needs of a node type: socket inputs, widgets in order, outputs."""

    sockets: tuple[tuple[str, str], ...]
    widgets: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]
    seed_widgets: tuple[str, ...] = ()
    #: Widgets the editor stores without an API input (LoadImage's upload button).
    ui_only: tuple[tuple[int, str], ...] = ()


SIGNATURES: dict[str, Signature] = {
    "LoadImage": Signature((), ("image",), (("IMAGE", "IMAGE"), ("MASK", "MASK")), ui_only=((1, "image"),)),
    "SaveImage": Signature((("images", "IMAGE"),), ("filename_prefix",), ()),
    "MaskToImage": Signature((("mask", "MASK"),), (), (("IMAGE", "IMAGE"),)),
    "ImageBlur": Signature((("image", "IMAGE"),), ("blur_radius", "sigma"), (("IMAGE", "IMAGE"),)),
    "ImageScaleBy": Signature((("image", "IMAGE"),), ("upscale_method", "scale_by"), (("IMAGE", "IMAGE"),)),
    "InpaintGAN_LoadModel": Signature((), ("model_name", "hub_repo_id"), (("model", "INPAINT_GAN_MODEL"),)),
    "InpaintGAN_Inpaint": Signature(
        (("model", "INPAINT_GAN_MODEL"), ("image", "IMAGE"), ("mask", "MASK")),
        ("strategy", "margin", "feather_pixels", "color_match", "seed", "threshold", "working_size"),
        (("image", "IMAGE"), ("extra", "IMAGE")),
    ),
    "InpaintGAN_AdjustMask": Signature((("mask", "MASK"),), ("grow", "feather", "threshold"), (("mask", "MASK"),)),
    "InpaintGAN_FaceCrop": Signature(
        (("image", "IMAGE"), ("mask", "MASK")), ("size", "assume_aligned", "margin", "min_face"),
        (("faces", "IMAGE"), ("masks", "MASK"), ("crops", "INPAINT_GAN_FACE_CROPS")),
    ),
    "InpaintGAN_FaceStitch": Signature(
        (("crops", "INPAINT_GAN_FACE_CROPS"), ("faces", "IMAGE")), (), (("image", "IMAGE"),)
    ),
    "InpaintGAN_GenerateMask": Signature(
        (("image", "IMAGE"),), ("kind", "width", "height", "batch_size", "seed"), (("mask", "MASK"),),
        seed_widgets=("seed",),
    ),
    "InpaintGAN_PreFill": Signature(
        (("image", "IMAGE"), ("mask", "MASK")), ("method", "radius"), (("image", "IMAGE"),)
    ),
    "InpaintGAN_CropRegions": Signature(
        (("image", "IMAGE"), ("mask", "MASK"), ("model", "INPAINT_GAN_MODEL")),
        ("margin", "target_size", "padding_multiple", "prefill", "threshold"),
        (("crops", "IMAGE"), ("masks", "MASK"), ("stitch", "INPAINT_GAN_STITCH")),
    ),
    "InpaintGAN_StitchRegions": Signature(
        (("stitch", "INPAINT_GAN_STITCH"), ("crops", "IMAGE")), ("feather_pixels", "color_match"),
        (("image", "IMAGE"),),
    ),
    "InpaintGAN_ExtendCanvas": Signature(
        (("image", "IMAGE"), ("mask", "MASK")), ("left", "top", "right", "bottom", "overlap", "fill"),
        (("image", "IMAGE"), ("mask", "MASK")),
    ),
    "InpaintGAN_CleanMask": Signature(
        (("mask", "MASK"),), ("ignore_below", "fill_holes", "invert"), (("mask", "MASK"),)
    ),
    "InpaintGAN_ExampleImage": Signature((), ("example",), (("image", "IMAGE"), ("mask", "MASK"))),
}


@dataclass
class Node:
    type: str
    widgets: dict[str, object]
    #: input name -> (source node key, output index)
    links: dict[str, tuple[str, int]] = field(default_factory=dict)
    title: str | None = None


def example(name: str) -> Node:
    """A picture the pack draws (``inpaint_core.examples``), so that the workflow runs with no input file."""
    return Node("InpaintGAN_ExampleImage", {"example": name})


def inpaint_widgets(strategy: str, margin: int = 64, feather: float = 8.0, color_match: bool = False,
                    working_size: int = 0) -> dict[str, object]:
    return {"strategy": strategy, "margin": margin, "feather_pixels": feather, "color_match": color_match,
            "seed": 0, "threshold": 0.1, "working_size": working_size}


def face_workflow(model: str, prefix: str) -> dict[str, Node]:
    """Crop each face that holds a hole as an aligned face, inpaint the crops with a face network, paste them back."""
    return {
        "load_image": example("portrait"),
        "face_crop": Node("InpaintGAN_FaceCrop",
                          {"size": 256, "assume_aligned": False, "margin": 0.26, "min_face": 32},
                          {"image": ("load_image", 0), "mask": ("load_image", 1)}),
        "load_model": Node("InpaintGAN_LoadModel", {"model_name": model, "hub_repo_id": ""}),
        "inpaint": Node("InpaintGAN_Inpaint", inpaint_widgets("resize", feather=4.0),
                        {"model": ("load_model", 0), "image": ("face_crop", 0), "mask": ("face_crop", 1)}),
        "face_stitch": Node("InpaintGAN_FaceStitch", {}, {"crops": ("face_crop", 2), "faces": ("inpaint", 0)}),
        "save": Node("SaveImage", {"filename_prefix": f"inpaint_gan/{prefix}"}, {"images": ("face_stitch", 0)}),
    }


WORKFLOWS: dict[str, dict[str, Node]] = {
    "opencv": {
        "load_image": example("landscape"),
        "adjust": Node("InpaintGAN_AdjustMask", {"grow": 2, "feather": 0.0, "threshold": 0.5},
                       {"mask": ("load_image", 1)}),
        "load_model": Node("InpaintGAN_LoadModel", {"model_name": "opencv.telea", "hub_repo_id": ""}),
        "inpaint": Node("InpaintGAN_Inpaint", inpaint_widgets("original", feather=4.0),
                        {"model": ("load_model", 0), "image": ("load_image", 0), "mask": ("adjust", 0)}),
        "save": Node("SaveImage", {"filename_prefix": "inpaint_gan/opencv"}, {"images": ("inpaint", 0)}),
        "prefill": Node("InpaintGAN_PreFill", {"method": "neutral", "radius": 5},
                        {"image": ("load_image", 0), "mask": ("adjust", 0)}),
        "save_prefill": Node("SaveImage", {"filename_prefix": "inpaint_gan/prefill"}, {"images": ("prefill", 0)}),
    },
    "random_masks": {
        "load_image": example("no_hole"),
        "generate": Node("InpaintGAN_GenerateMask",
                         {"kind": "thick", "width": 512, "height": 512, "batch_size": 1, "seed": 0},
                         {"image": ("load_image", 0)}, title="Generate Random Mask (NTIRE 2022 types)"),
        "load_model": Node("InpaintGAN_LoadModel", {"model_name": "opencv.telea", "hub_repo_id": ""}),
        "inpaint": Node("InpaintGAN_Inpaint", inpaint_widgets("crop"),
                        {"model": ("load_model", 0), "image": ("load_image", 0), "mask": ("generate", 0)}),
        "save": Node("SaveImage", {"filename_prefix": "inpaint_gan/random_masks"}, {"images": ("inpaint", 0)}),
        "mask_image": Node("MaskToImage", {}, {"mask": ("generate", 0)}),
        "save_mask": Node("SaveImage", {"filename_prefix": "inpaint_gan/random_masks_mask"},
                          {"images": ("mask_image", 0)}),
    },
    "highres_crop": {
        "load_image": example("large_landscape"),
        "adjust": Node("InpaintGAN_AdjustMask", {"grow": 8, "feather": 0.0, "threshold": 0.5},
                       {"mask": ("load_image", 1)}),
        "load_model": Node("InpaintGAN_LoadModel", {"model_name": "opencv.ns", "hub_repo_id": ""},
                           title="Load Inpaint GAN Model (pick a GAN here)"),
        "inpaint": Node("InpaintGAN_Inpaint", inpaint_widgets("crop", margin=128, feather=16.0, color_match=True),
                        {"model": ("load_model", 0), "image": ("load_image", 0), "mask": ("adjust", 0)}),
        "save": Node("SaveImage", {"filename_prefix": "inpaint_gan/highres_crop"}, {"images": ("inpaint", 0)}),
    },
    # Three separate holes, cropped into one batch, through two of ComfyUI's own image nodes (stand-ins for a
    # sampler: any node that keeps the batch's order and aspect), and stitched back.
    "crop_stitch": {
        "load_image": example("three_holes"),
        "crop": Node("InpaintGAN_CropRegions",
                     {"margin": 32, "target_size": 256, "padding_multiple": 8, "prefill": "telea", "threshold": 0.1},
                     {"image": ("load_image", 0), "mask": ("load_image", 1)}),
        "blur": Node("ImageBlur", {"blur_radius": 4, "sigma": 2.0}, {"image": ("crop", 0)},
                     title="ImageBlur (put a sampler here)"),
        "upscale": Node("ImageScaleBy", {"upscale_method": "bicubic", "scale_by": 2.0}, {"image": ("blur", 0)}),
        "stitch": Node("InpaintGAN_StitchRegions", {"feather_pixels": 8.0, "color_match": False},
                       {"stitch": ("crop", 2), "crops": ("upscale", 0)}),
        "save": Node("SaveImage", {"filename_prefix": "inpaint_gan/crop_stitch"}, {"images": ("stitch", 0)}),
        "save_crops": Node("SaveImage", {"filename_prefix": "inpaint_gan/crop_stitch_crops"},
                           {"images": ("crop", 0)}),
    },
    "outpaint": {
        "load_image": example("no_hole"),
        "extend": Node("InpaintGAN_ExtendCanvas",
                       {"left": 0, "top": 0, "right": 128, "bottom": 64, "overlap": 8, "fill": "edge"},
                       {"image": ("load_image", 0)}),
        "load_model": Node("InpaintGAN_LoadModel", {"model_name": "opencv.telea", "hub_repo_id": ""},
                           title="Load Inpaint GAN Model (pick a scene GAN here)"),
        "inpaint": Node("InpaintGAN_Inpaint", inpaint_widgets("crop", margin=64, feather=8.0),
                        {"model": ("load_model", 0), "image": ("extend", 0), "mask": ("extend", 1)}),
        "save": Node("SaveImage", {"filename_prefix": "inpaint_gan/outpaint"}, {"images": ("inpaint", 0)}),
    },
    # auto: big-lama or MI-GAN when downloaded (or, online, downloadable), else the bundled network, offline too.
    "auto": {
        "load_image": example("landscape"),
        "adjust": Node("InpaintGAN_AdjustMask", {"grow": 4, "feather": 0.0, "threshold": 0.5},
                       {"mask": ("load_image", 1)}),
        "load_model": Node("InpaintGAN_LoadModel", {"model_name": "auto", "hub_repo_id": ""},
                           title="Load Inpaint GAN Model (auto: LaMa / MI-GAN when available)"),
        "inpaint": Node("InpaintGAN_Inpaint", inpaint_widgets("crop", feather=4.0),
                        {"model": ("load_model", 0), "image": ("load_image", 0), "mask": ("adjust", 0)}),
        "save": Node("SaveImage", {"filename_prefix": "inpaint_gan/auto"}, {"images": ("inpaint", 0)}),
    },
    # The bundled networks (trained on faces, so they get the face crops); they work offline on a fresh install.
    "ctsdg": face_workflow("ctsdg-compact-utkface", "ctsdg"),
    "deepfill": face_workflow("deepfill-compact-utkface", "deepfill"),
    "mdrn": face_workflow("mdrn-compact-utkface", "mdrn"),
}


def api_format(graph: dict[str, Node]) -> dict[str, dict]:
    ids = {key: str(index) for index, key in enumerate(graph, start=1)}
    prompt = {}
    for key, node in graph.items():
        inputs: dict[str, object] = dict(node.widgets)
        inputs.update({name: [ids[source], slot] for name, (source, slot) in node.links.items()})
        prompt[ids[key]] = {"class_type": node.type, "inputs": inputs,
                            "_meta": {"title": node.title or node.type}}
    return prompt


def ui_format(graph: dict[str, Node]) -> dict:
    ids = {key: index for index, key in enumerate(graph, start=1)}
    links, consumers = [], {}
    for key, node in graph.items():
        sockets = [name for name, _ in SIGNATURES[node.type].sockets]
        for name, (source, slot) in node.links.items():
            kind = SIGNATURES[graph[source].type].outputs[slot][1]
            link = [len(links) + 1, ids[source], slot, ids[key], sockets.index(name), kind]
            links.append(link)
            consumers.setdefault((source, slot), []).append(link[0])
    column = _columns(graph)
    nodes = []
    for order, (key, node) in enumerate(sorted(graph.items(), key=lambda item: column[item[0]])):
        signature = SIGNATURES[node.type]
        values: list[object] = []
        for name in signature.widgets:
            values.append(node.widgets[name])
            if name in signature.seed_widgets:
                values.append(SEED_CONTROL)
        for index, value in signature.ui_only:
            values.insert(index, value)
        inputs = [{"name": name, "type": kind, "link": next((link[0] for link in links
                                                            if link[3] == ids[key] and link[4] == slot), None)}
                  for slot, (name, kind) in enumerate(signature.sockets)]
        outputs = [{"name": name, "type": kind, "links": consumers.get((key, slot), []), "slot_index": slot}
                   for slot, (name, kind) in enumerate(signature.outputs)]
        row = sum(1 for other in graph if column[other] == column[key] and ids[other] < ids[key])
        entry = {"id": ids[key], "type": node.type, "pos": [40 + 380 * column[key], 60 + 360 * row],
                 "size": [340, 120 + 26 * len(values)], "flags": {}, "order": order, "mode": 0,
                 "inputs": inputs, "outputs": outputs, "properties": {"Node name for S&R": node.type},
                 "widgets_values": values}
        if node.title:
            entry["title"] = node.title
        nodes.append(entry)
    nodes.sort(key=lambda entry: entry["id"])
    return {"last_node_id": len(graph), "last_link_id": len(links), "nodes": nodes, "links": links,
            "groups": [], "config": {}, "extra": {"ds": {"scale": 1.0, "offset": [0, 0]}}, "version": 0.4}


def _columns(graph: dict[str, Node]) -> dict[str, int]:
    """Each node's column: one more than the deepest node feeding it."""
    column: dict[str, int] = {}

    def depth(key: str) -> int:
        if key not in column:
            column[key] = 1 + max((depth(source) for source, _ in graph[key].links.values()), default=-1)
        return column[key]

    for key in graph:
        depth(key)
    return column


def render() -> dict[Path, str]:
    """Every file this script writes, path -> text."""
    files = {}
    for name, graph in WORKFLOWS.items():
        filename = f"inpaint_gan_{name}.json"
        files[ROOT / "example_workflows" / filename] = json.dumps(ui_format(graph), indent=2) + "\n"
        files[ROOT / "tests" / "workflows" / filename] = json.dumps(api_format(graph), indent=2) + "\n"
    return files


def main() -> None:
    for path, text in render().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    main()
