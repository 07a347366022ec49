"""The ComfyUI node pack without ComfyUI.

The pack is loaded the way ComfyUI loads it (``spec_from_file_location`` on the root ``__init__.py``, executed as a
package), with small stand-ins for ``comfy_api.latest``, ``comfy``, ``comfy.model_management``, ``comfy.utils`` and
``folder_paths`` placed in ``sys.modules`` for this module's tests only and removed after. The repository root is not
put on ``sys.path``. ``tests/test_comfyui_e2e.py`` runs the same nodes in a real ComfyUI.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PACK = str(ROOT).replace(".", "_x_")  # the module name ComfyUI gives a pack folder
OUR_NODES = {"InpaintGAN_LoadModel", "InpaintGAN_Inpaint", "InpaintGAN_AdjustMask", "InpaintGAN_PreFill",
             "InpaintGAN_FaceCrop", "InpaintGAN_FaceStitch", "InpaintGAN_GenerateMask", "InpaintGAN_CropRegions",
             "InpaintGAN_StitchRegions", "InpaintGAN_ExtendCanvas", "InpaintGAN_CleanMask", "InpaintGAN_ExampleImage"}
CORE_NODES = {"LoadImage", "SaveImage", "MaskToImage", "ImageBlur", "ImageScaleBy"}


# ------------------------------------------------------------------------------------------- ComfyUI stand-ins


class Interrupted(Exception):
    """Stands for ComfyUI's InterruptProcessingException."""


def _io_module() -> ModuleType:
    class Port:
        def __init__(self, id=None, **options):
            self.id, self.options = id, options

    def comfytype(io_type: str) -> type:
        return type(io_type, (), {"io_type": io_type, "Input": type("Input", (Port,), {"io_type": io_type}),
                                  "Output": type("Output", (Port,), {"io_type": io_type})})

    io = ModuleType("comfy_api.latest.io")
    io.Custom = comfytype
    for name, io_type in {"Image": "IMAGE", "Mask": "MASK", "Combo": "COMBO", "Int": "INT", "Float": "FLOAT",
                          "Boolean": "BOOLEAN", "String": "STRING"}.items():
        setattr(io, name, comfytype(io_type))
    io.Schema = type("Schema", (), {"__init__": lambda self, **fields: self.__dict__.update(fields)})
    io.NodeOutput = type("NodeOutput", (), {"__init__": lambda self, *args, ui=None: setattr(self, "args", args)})
    io.ComfyNode = type("ComfyNode", (), {})
    return io


def _stubs(tmp: Path, state: SimpleNamespace) -> dict[str, ModuleType]:
    latest = ModuleType("comfy_api.latest")
    latest.io = _io_module()
    latest.ComfyExtension = type("ComfyExtension", (), {})
    comfy_api = ModuleType("comfy_api")
    comfy_api.latest = latest

    management = ModuleType("comfy.model_management")
    management.get_torch_device = lambda: torch.device("cpu")
    management.unet_offload_device = lambda: torch.device("cpu")
    management.module_size = lambda module: sum(p.numel() * p.element_size() for p in module.parameters())
    management.free_memory = lambda size, device: state.freed.append((size, device))

    def throw_if_interrupted():
        if state.interrupt:
            raise Interrupted

    management.throw_exception_if_processing_interrupted = throw_if_interrupted

    class ProgressBar:
        def __init__(self, total, node_id=None):
            self.total = total
            state.bars.append(self)
            self.updates = []

        def update_absolute(self, value, total=None, preview=None):
            self.updates.append((value, total))

    utils = ModuleType("comfy.utils")
    utils.ProgressBar = ProgressBar
    comfy = ModuleType("comfy")
    comfy.model_management, comfy.utils = management, utils

    folder_paths = ModuleType("folder_paths")
    folder_paths.models_dir = str(tmp / "models")
    folder_paths.folder_names_and_paths = {"inpaint": ([str(tmp / "user_inpaint")], set())}

    def add_model_folder_path(name, path, is_default=False):
        paths = folder_paths.folder_names_and_paths.setdefault(name, ([], set()))[0]
        if path not in paths:
            paths.insert(0, path) if is_default else paths.append(path)

    def get_filename_list(name):
        return sorted(str(p.relative_to(d)) for d in map(Path, get_folder_paths(name)) if d.is_dir()
                      for p in d.rglob("*") if p.is_file())

    def get_folder_paths(name):
        return list(folder_paths.folder_names_and_paths[name][0])

    def get_full_path_or_raise(name, filename):
        for folder in get_folder_paths(name):
            if (Path(folder) / filename).is_file():
                return str(Path(folder) / filename)
        raise FileNotFoundError(f"Model in folder '{name}' with filename '{filename}' not found.")

    folder_paths.add_model_folder_path = add_model_folder_path
    folder_paths.get_filename_list = get_filename_list
    folder_paths.get_folder_paths = get_folder_paths
    folder_paths.get_full_path_or_raise = get_full_path_or_raise
    return {"comfy_api": comfy_api, "comfy_api.latest": latest, "comfy": comfy,
            "comfy.model_management": management, "comfy.utils": utils, "folder_paths": folder_paths}


@pytest.fixture(scope="module")
def comfy(tmp_path_factory):
    """The pack, loaded as ComfyUI loads it, with its nodes by id, its modules, and what the stand-ins recorded."""
    tmp = tmp_path_factory.mktemp("comfy")
    state = SimpleNamespace(freed=[], bars=[], interrupt=False)
    stubs = _stubs(tmp, state)
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(PACK, ROOT / "__init__.py")
        pack = importlib.util.module_from_spec(spec)
        sys.modules[PACK] = pack
        spec.loader.exec_module(pack)
        extension = asyncio.run(pack.comfy_entrypoint())
        node_list = asyncio.run(extension.get_node_list())
        yield SimpleNamespace(
            pack=pack, node_list=node_list, nodes={cls.define_schema().node_id: cls for cls in node_list},
            logic=sys.modules[f"{PACK}.nodes.logic"], ic=sys.modules[f"{PACK}.inpaint_core"], state=state,
            folder_paths=stubs["folder_paths"], tmp=tmp,
        )
    finally:
        for name in [name for name in sys.modules if name == PACK or name.startswith(PACK + ".")]:
            del sys.modules[name]
        for name, module in saved.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module


def scene(batch: int = 1, height: int = 48, width: int = 64) -> torch.Tensor:
    """A smooth ComfyUI IMAGE ``[B, H, W, 3]``."""
    y = torch.linspace(0, 1, height).view(1, height, 1, 1)
    x = torch.linspace(0, 1, width).view(1, 1, width, 1)
    colours = torch.tensor([0.8, 0.5, 0.2]).view(1, 1, 1, 3)
    image = (0.2 + 0.6 * x * colours + 0.2 * y).expand(batch, height, width, 3)
    return (image * torch.linspace(0.9, 1.0, batch).view(batch, 1, 1, 1)).contiguous()


def holes(batch: int = 1, height: int = 48, width: int = 64, boxes=((10, 10, 20, 22),)) -> torch.Tensor:
    """A ComfyUI MASK ``[B, H, W]`` with 1 in each box (top, left, bottom, right)."""
    mask = torch.zeros(batch, height, width)
    for top, left, bottom, right in boxes:
        mask[:, top:bottom, left:right] = 1
    return mask


# ------------------------------------------------------------------------------------------------ the pack


def test_pack_loads_like_comfyui(comfy):
    assert not hasattr(comfy.pack, "NODE_CLASS_MAPPINGS"), "V1 mappings next to comfy_entrypoint hide the V3 nodes"
    assert {cls.define_schema().node_id for cls in comfy.node_list} == OUR_NODES


def test_node_ids_names_and_categories(comfy):
    schemas = [cls.define_schema() for cls in comfy.node_list]
    assert len({s.node_id for s in schemas}) == len(schemas)
    for schema in schemas:
        assert schema.node_id.startswith("InpaintGAN_")
        assert schema.display_name and schema.description
        assert schema.category.split("/")[0] == "inpaint_gan"
        ids = [port.id for port in schema.inputs]
        assert len(set(ids)) == len(ids)


def test_models_folder_extends_the_users_paths(comfy):
    paths = comfy.folder_paths.get_folder_paths("inpaint")
    assert paths == [str(comfy.tmp / "user_inpaint"), str(comfy.tmp / "models" / "inpaint")]


def test_loader_lists_and_loads_engines_and_files(comfy):
    folder = comfy.tmp / "user_inpaint"
    folder.mkdir(exist_ok=True)
    comfy.ic.save_model(comfy.ic.build_model("opencv.ns", radius=2), folder / "my_ns.safetensors")
    (folder / "notes.txt").write_text("not weights")
    loader = comfy.nodes["InpaintGAN_LoadModel"]
    model_name = next(p for p in loader.define_schema().inputs if p.id == "model_name")
    options = model_name.options["options"]
    assert {"opencv.telea · ready · classical · no weights", "my_ns.safetensors"} <= set(options)
    assert "notes.txt" not in options
    # auto first (the default), then the bundled default, ready offline, saying what it is
    assert options[:2] == ["auto", "auto-face"] and options[0] == model_name.options["default"]
    # nothing downloaded, the Hub unreachable: the bundled scene network, and the face one for faces
    assert loader.execute("auto").args[0].name.startswith("auto (mdrn-compact-scenes")
    assert options[2].startswith(f"{comfy.ic.DEFAULT_MODEL} · bundled · face · ") and " MB · " in options[2]
    assert all(" · download " in label for label in options if label.startswith("psp-ffhq-encode"))
    model = loader.execute("my_ns.safetensors").args[0]
    assert (model.name, model.config.radius) == ("opencv.ns", 2)
    assert loader.execute("opencv.telea", hub_repo_id="  ").args[0].name == "opencv.telea"
    # a label (of any status: saved before a download) and a plain name both load and validate
    assert loader.execute("opencv.ns · cached · classical").args[0].name == "opencv.ns"
    assert loader.validate_inputs("psp-ffhq-encode · cached · face") is True
    assert loader.validate_inputs("my_ns.safetensors") is True and loader.validate_inputs(options[0]) is True
    assert "not a catalog name" in loader.validate_inputs("isfrnet-ffhq")
    assert (comfy.tmp / "models" / "inpaint").is_dir()  # created when the pack loads


def test_loader_download_fills_the_progress_bar(comfy, local_hub, tmp_path):
    data = comfy.ic.save_model(comfy.ic.build_model("opencv.telea", radius=4), tmp_path / "m.safetensors").read_bytes()
    local_hub.commit("someone/telea", {"model.safetensors": data})
    comfy.state.bars.clear()
    model = comfy.nodes["InpaintGAN_LoadModel"].execute("opencv.telea", hub_repo_id="someone/telea").args[0]
    assert model.config.radius == 4
    assert comfy.state.bars[-1].updates[-1] == (len(data), len(data))  # bytes done / total in ComfyUI's bar


def test_loader_says_when_a_model_is_for_faces(comfy, caplog):
    with caplog.at_level("WARNING", logger="inpaint_gan"):
        comfy.nodes["InpaintGAN_LoadModel"].execute("opencv.telea")
        assert "aligned faces" not in caplog.text
        comfy.nodes["InpaintGAN_LoadModel"].execute(comfy.ic.DEFAULT_MODEL)
    assert f"{comfy.ic.DEFAULT_MODEL} was trained on aligned faces" in caplog.text


def test_loader_errors_say_what_to_do(comfy, monkeypatch, tmp_path):
    loader = comfy.nodes["InpaintGAN_LoadModel"]
    with pytest.raises(comfy.ic.InputError, match="owner/name"):
        loader.execute("opencv.telea", hub_repo_id="not a repo")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(comfy.ic.WeightsError, match="offline"):
        loader.execute("opencv.telea", hub_repo_id="someone/inpaint-weights")
    with pytest.raises(FileNotFoundError):
        loader.execute("missing.safetensors")


def test_inpaint_node_runs_with_progress_and_memory(comfy):
    model = comfy.nodes["InpaintGAN_LoadModel"].execute("opencv.telea").args[0]
    image, mask = scene(), holes(boxes=((5, 5, 12, 14), (30, 40, 40, 55)))
    comfy.state.bars.clear()
    output, extra = comfy.nodes["InpaintGAN_Inpaint"].execute(
        model, image, mask, strategy="crop", margin=8, feather_pixels=0.0, color_match=False, seed=3).args
    assert output.shape == image.shape and extra.shape == image.shape and output.dtype == torch.float32
    keep = mask[..., None].expand_as(image) == 0
    assert torch.equal(output[keep], image[keep])
    assert not torch.equal(output, image)
    assert torch.count_nonzero(extra) == 0  # OpenCV has no extra output
    assert comfy.state.bars[-1].updates == [(1, 2), (2, 2)]  # one step per hole region
    assert comfy.state.freed[-1] == (512 * 512 * 1024, torch.device("cpu"))  # crop: the network sees 512 x 512
    assert comfy.logic.activation_bytes(model, image, "original") == 48 * 64 * 1024


def test_cancel_stops_the_run(comfy):
    model = comfy.ic.build_model("opencv.telea")
    comfy.state.interrupt = True
    try:
        with pytest.raises(Interrupted):
            comfy.nodes["InpaintGAN_Inpaint"].execute(model, scene(), holes(), strategy="crop", margin=8,
                                                      feather_pixels=0.0, color_match=False, seed=0)
    finally:
        comfy.state.interrupt = False


def test_mask_and_prefill_nodes(comfy):
    mask = holes()
    grown = comfy.nodes["InpaintGAN_AdjustMask"].execute(mask, grow=2, feather=0.0, threshold=0.0).args[0]
    assert grown.shape == mask.shape and grown.sum() == (10 + 4) * (12 + 4)
    filled = comfy.nodes["InpaintGAN_PreFill"].execute(scene(), mask, method="navier-stokes", radius=3).args[0]
    assert filled.shape == (1, 48, 64, 3)


def test_generate_mask_node(comfy):
    node = comfy.nodes["InpaintGAN_GenerateMask"]
    masks = node.execute("thick", 64, 48, 2, seed=5).args[0]
    assert masks.shape == (2, 48, 64) and set(masks.unique().tolist()) <= {0.0, 1.0} and masks.sum() > 0
    assert torch.equal(masks, node.execute("thick", 64, 48, 2, seed=5).args[0])
    assert not torch.equal(masks[0], masks[1])
    like = node.execute("box", 8, 8, 1, seed=0, image=scene(3)).args[0]
    assert like.shape == (3, 48, 64)


def test_face_crop_inpaint_stitch(comfy):
    nodes, model = comfy.nodes, comfy.ic.build_model("opencv.telea")
    image, mask = scene(2), holes(2)
    mask[1] = 0  # only the first image has a hole: one crop
    faces, masks, crops = nodes["InpaintGAN_FaceCrop"].execute(image, mask, size=32, assume_aligned=True, margin=0.26,
                                                               min_face=32).args
    assert faces.shape == (1, 32, 32, 3) and masks.shape == (1, 32, 32) and masks.max() == 1
    filled = nodes["InpaintGAN_Inpaint"].execute(model, faces, masks, strategy="original", margin=0,
                                                 feather_pixels=0.0, color_match=False, seed=0).args[0]
    stitched = nodes["InpaintGAN_FaceStitch"].execute(crops, filled).args[0]
    keep = mask[..., None].expand_as(image) == 0
    assert stitched.shape == image.shape and torch.equal(stitched[keep], image[keep])
    assert (stitched[0, 12:18, 12:20] - image[0, 12:18, 12:20]).abs().max() < 0.15  # a smooth image, a smooth fill
    with pytest.raises(comfy.ic.InputError, match="2 inpainted crops for 1"):
        nodes["InpaintGAN_FaceStitch"].execute(crops, torch.cat([filled, filled]))


def test_face_crop_without_a_face_says_what_to_do(comfy):
    faces = sys.modules[f"{PACK}.inpaint_core.faces"]
    if not faces.detection_available():
        pytest.skip("this OpenCV has no Haar cascades (5.x)")
    with pytest.raises(comfy.ic.InputError, match="assume_aligned"):
        comfy.logic.crop_faces(scene(), holes(), 64)


def test_crop_any_node_stitch(comfy):
    """Crop -> a step that is not ours (here: invert the crops) -> Stitch, on two images with three regions."""
    nodes, image = comfy.nodes, scene(2)
    mask = holes(2, boxes=((5, 5, 12, 14), (30, 40, 40, 55)))
    mask[1] = holes(boxes=((20, 20, 28, 30),))[0]
    crops, masks, record = nodes["InpaintGAN_CropRegions"].execute(
        image, mask, margin=4, target_size=40, padding_multiple=16, prefill="telea", threshold=0.1).args
    assert crops.shape == (3, 48, 48, 3) and masks.shape == (3, 48, 48)
    assert [region.index for region in record.regions] == [0, 0, 1]
    stitch = nodes["InpaintGAN_StitchRegions"]
    stitched = stitch.execute(record, 1 - crops, feather_pixels=0.0, color_match=False).args[0]
    keep = mask[..., None].expand_as(image) == 0
    assert stitched.shape == image.shape and torch.equal(stitched[keep], image[keep])
    changed = (stitched - image).abs().amax(-1) > 0.05
    assert torch.equal(changed, mask > 0)  # every hole pixel came back from the processed crops
    model = comfy.ic.build_model("opencv.ns")
    prefilled = nodes["InpaintGAN_CropRegions"].execute(image, mask, 4, 0, 8, "model", 0.1, model=model).args[0]
    assert prefilled.shape[1] % 8 == 0 and prefilled.shape[2] % 8 == 0
    with pytest.raises(comfy.ic.InputError, match="no model is connected"):
        nodes["InpaintGAN_CropRegions"].execute(image, mask, 4, 0, 8, "model", 0.1)
    with pytest.raises(comfy.ic.InputError, match="2 processed crops for 3 regions"):
        nodes["InpaintGAN_StitchRegions"].execute(record, crops[:2], feather_pixels=0.0, color_match=False)


def test_extend_canvas_and_clean_mask_nodes(comfy):
    nodes = comfy.nodes
    image, mask = nodes["InpaintGAN_ExtendCanvas"].execute(scene(), 0, 8, 16, 0, overlap=4, fill="edge").args
    assert image.shape == (1, 56, 80, 3) and mask.shape == (1, 56, 80)
    assert mask[0, :12].min() == 1 and mask[0, :, -20:].min() == 1 and mask[0, 12:, :60].max() == 0
    model = comfy.ic.build_model("opencv.telea")
    filled = nodes["InpaintGAN_Inpaint"].execute(model, image, mask, strategy="crop", margin=8, feather_pixels=0.0,
                                                 color_match=False, seed=0).args[0]
    assert torch.equal(filled[0, 12:, :60], scene()[0, 4:, :60])
    ring = holes(boxes=((5, 5, 25, 25),))
    ring[0, 10:20, 10:20] = 0
    ring[0, 40, 60] = 0.05
    cleaned = nodes["InpaintGAN_CleanMask"].execute(ring, ignore_below=0.1, fill_holes=True, invert=False).args[0]
    assert torch.equal(cleaned, holes(boxes=((5, 5, 25, 25),)))
    inverted = nodes["InpaintGAN_CleanMask"].execute(ring, ignore_below=0.0, fill_holes=False, invert=True).args[0]
    assert torch.allclose(inverted, 1 - ring)


def test_example_image_node(comfy):
    node = comfy.nodes["InpaintGAN_ExampleImage"]
    image, mask = node.execute("three_holes").args
    assert image.shape == (1, 384, 512, 3) and mask.shape == (1, 384, 512) and mask.max() == 1
    assert torch.count_nonzero(node.execute("no_hole").args[1]) == 0
    with pytest.raises(comfy.ic.InputError, match="unknown example"):
        node.execute("moon")


# ------------------------------------------------------------------------------------------------ the logic


def test_layouts_round_trip(comfy):
    logic, image, mask = comfy.logic, scene(2), holes(2)
    core = logic.image_to_core(image)
    assert core.shape == (2, 3, 48, 64) and torch.equal(logic.image_to_comfy(core), image)
    assert logic.image_to_core(image[0]).shape == (1, 3, 48, 64)
    assert logic.mask_to_core(mask).shape == (2, 1, 48, 64)
    assert logic.mask_to_core(mask[0]).shape == (1, 1, 48, 64)  # a MASK squeezed to [H, W]
    assert torch.equal(logic.mask_to_comfy(logic.mask_to_core(mask)), mask)
    assert logic.image_to_comfy(torch.rand(1, 1, 8, 8)).shape == (1, 8, 8, 3)
    with pytest.raises(comfy.ic.InputError, match="IMAGE"):
        logic.image_to_core(torch.rand(2, 2, 8, 8, 3))


def test_batches_one_mask_for_many_images_or_one_each(comfy):
    logic, model = comfy.logic, comfy.ic.build_model("opencv.telea")
    images = scene(3)
    shared, _ = logic.run_inpaint(model, images, holes(1), strategy="original")
    each, _ = logic.run_inpaint(model, images, holes(3, boxes=((5, 5, 15, 15),)), strategy="resize")
    one_image, _ = logic.run_inpaint(model, images[:1], holes(2), strategy="crop")
    assert shared.shape == each.shape == (3, 48, 64, 3) and one_image.shape == (2, 48, 64, 3)
    assert not torch.equal(shared[:, 12, 15], images[:, 12, 15]) and torch.equal(each[:, 12, 15], images[:, 12, 15])
    with pytest.raises(comfy.ic.InputError, match="2 masks for 3 images"):
        logic.run_inpaint(model, images, holes(2))


def test_mask_semantics(comfy):
    logic, model = comfy.logic, comfy.ic.build_model("opencv.telea")
    image = scene()
    # no hole at all (LoadImage's 64x64 blank mask for an image without alpha): the image is returned as it is
    same, extra = logic.run_inpaint(model, image, torch.zeros(1, 64, 64))
    assert torch.equal(same, image) and torch.count_nonzero(extra) == 0
    # soft values below the threshold are not holes; a mask covering everything is an error, not a grey image
    faint = holes() * 0.05
    assert torch.equal(logic.run_inpaint(model, image, faint, threshold=0.1)[0], image)
    with pytest.raises(comfy.ic.InputError, match="whole image"):
        logic.run_inpaint(model, image, torch.ones(1, 48, 64))
    rgba = torch.cat([image, torch.ones_like(image[..., :1])], -1)  # an IMAGE with alpha gives an RGB result
    assert logic.run_inpaint(model, rgba, holes())[0].shape == image.shape
    with pytest.raises(comfy.ic.InputError, match="unknown strategy"):
        logic.run_inpaint(model, image, holes(), strategy="tile")


def test_no_silent_no_ops(comfy, caplog):
    """An empty mask and a long 'original' run are said in the log; a forward pass can be cancelled between layers."""
    logic, image = comfy.logic, scene()
    with caplog.at_level("WARNING", logger="inpaint_gan"):
        logic.run_inpaint(comfy.ic.build_model("opencv.telea"), image, torch.zeros(1, 48, 64))
    assert "returned unchanged" in caplog.text
    network = comfy.ic.build_model("deepfill.tiny")
    caplog.clear()
    with caplog.at_level("WARNING", logger="inpaint_gan"):
        factor = logic.warn_original_cost(network, 1024, 1024)
    assert factor == 1024 * 1024 / network.working_size**2 and "'original' runs" in caplog.text
    assert logic.warn_original_cost(comfy.ic.build_model("opencv.telea"), 4096, 4096) > 4  # no weights: no warning
    assert caplog.text.count("'original' runs") == 1
    calls = []

    def cancel():
        calls.append(1)
        raise Interrupted

    with pytest.raises(Interrupted), logic.interruptible(network, cancel):
        logic.run_inpaint(network, image, holes(), strategy="original")
    assert len(calls) == 1  # the first layer stopped it
    logic.run_inpaint(network, image, holes(), strategy="original")  # the hooks are gone after the block
    schema = comfy.nodes["InpaintGAN_Inpaint"].define_schema()
    seed = next(port for port in schema.inputs if port.id == "seed")
    assert seed.options["control_after_generate"] is False  # the editor keeps the seed fixed


def test_seed_is_a_generator_and_extras_are_returned(comfy):
    """A stand-in network with randomness and an extra output: the seed makes runs repeatable."""
    logic, base = comfy.logic, sys.modules[f"{PACK}.inpaint_core.models.base"]

    class Noisy(base.InpaintModel):
        family, size_multiple, extra_outputs = "noisy", 8, ("edge",)

        def predict_outputs(self, image, hole, generator=None):
            noise = torch.rand(image.shape, generator=generator, device=image.device)
            return {"image": noise, "edge": hole.expand(-1, 1, -1, -1) * 0 + 0.5}

    model, image, mask = Noisy(None), scene(), holes()
    first, edge = logic.run_inpaint(model, image, mask, strategy="original", seed=7)
    again, _ = logic.run_inpaint(model, image, mask, strategy="original", seed=7)
    other, _ = logic.run_inpaint(model, image, mask, strategy="original", seed=8)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert edge.shape == image.shape and torch.allclose(edge, torch.full_like(edge, 0.5))


def test_model_is_offloaded_even_on_errors(comfy):
    model = torch.nn.Linear(2, 2)
    moves = []
    model.to = lambda device: moves.append(str(device))
    with pytest.raises(RuntimeError), comfy.logic.model_on(model, "meta", "cpu"):
        raise RuntimeError("boom")
    assert moves == ["meta", "cpu"]


def test_adjust_mask(comfy):
    logic, mask = comfy.logic, holes()
    assert logic.adjust_mask(mask, -2).sum() == (10 - 4) * (12 - 4)
    feathered = logic.adjust_mask(mask, 0, 4.0)
    assert feathered.max() == 1 and ((feathered > 0) & (feathered < 1)).any() and (feathered >= mask).all()
    degraded = mask * 0.97 + 0.02
    assert torch.equal(logic.adjust_mask(degraded, threshold=0.5), mask)


def test_prefill(comfy):
    logic, image, mask = comfy.logic, scene(), holes()
    inside, outside = mask[..., None].expand_as(image) == 1, mask[..., None].expand_as(image) == 0
    neutral = logic.prefill(image, mask, "neutral")
    assert torch.all(neutral[inside] == 0.5) and torch.equal(neutral[outside], image[outside])
    telea = logic.prefill(image, mask, "telea", radius=3)
    assert torch.equal(telea[outside], image[outside]) and (telea[inside] - image[inside]).abs().max() < 0.2
    assert torch.equal(logic.prefill(image, torch.zeros(1, 64, 64), "telea"), image)
    with pytest.raises(comfy.ic.InputError, match="pre-fill"):
        logic.prefill(image, mask, "blur")


# ------------------------------------------------------------------------------------------- registry readiness


def _published_python_files() -> list[Path]:
    """The Python files the Registry archive holds: all but what ``.comfyignore`` and ``.gitignore`` leave out."""
    ignored = {line.strip().strip("/") for name in (".comfyignore", ".gitignore")
               for line in (ROOT / name).read_text().splitlines() if line.strip() and not line.startswith("#")}
    return [path for path in sorted(ROOT.rglob("*.py"))
            if not any(part in ignored or part.startswith(".") for part in path.relative_to(ROOT).parts)]


def test_no_banned_patterns_and_no_absolute_nodes_import():
    banned = re.compile(r"(?<![.\w])(eval|exec)\(|\bsubprocess\b|\bos\.system\b|pip install"
                        r"|^\s*(import nodes|from nodes\b)", re.MULTILINE)
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in _published_python_files()
                 for match in banned.finditer(path.read_text())]
    assert not offenders


def test_workflows_are_current_and_use_core_nodes_and_ours(comfy):
    spec = importlib.util.spec_from_file_location("build_workflows", ROOT / "scripts" / "build_workflows.py")
    builder = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = builder  # dataclasses look their module up
    try:
        spec.loader.exec_module(builder)
    finally:
        del sys.modules[spec.name]
    for path, text in builder.render().items():
        assert path.is_file() and path.read_text() == text, f"{path} is stale: run python scripts/build_workflows.py"
    for name, schema in ((n, c.define_schema()) for n, c in comfy.nodes.items()):
        signature = builder.SIGNATURES[name]
        widget_types = {"INT", "FLOAT", "BOOLEAN", "STRING", "COMBO"}
        assert [p.id for p in schema.inputs if p.io_type in widget_types] == list(signature.widgets), name
        assert [(p.id, p.io_type) for p in schema.inputs if p.io_type not in widget_types] == list(signature.sockets)
        assert [(p.options.get("display_name"), p.io_type) for p in schema.outputs] == list(signature.outputs)
    api = sorted((ROOT / "tests" / "workflows").glob("*.json"))
    assert {p.name for p in api} == {p.name for p in (ROOT / "example_workflows").glob("*.json")}
    for path in api:
        prompt = json.loads(path.read_text())
        for node in prompt.values():
            assert node["class_type"] in CORE_NODES | OUR_NODES, (path.name, node["class_type"])
            if node["class_type"] in OUR_NODES:
                schema = comfy.nodes[node["class_type"]].define_schema()
                required = {p.id for p in schema.inputs if not p.options.get("optional")}
                assert required <= set(node["inputs"]) <= {p.id for p in schema.inputs}, path.name


def test_every_option_is_a_widget_with_its_default_and_range(comfy):
    """The Inpaint node has a widget for each pipeline option, Face Crop one for each face option."""
    options = sys.modules[f"{PACK}.inpaint_core.options"]
    for node, options_cls in (("InpaintGAN_Inpaint", options.InpaintOptions),
                              ("InpaintGAN_FaceCrop", options.FaceOptions)):
        widgets = {port.id: port.options for port in comfy.nodes[node].define_schema().inputs}
        for name, (item, spec) in options_cls.specs().items():
            assert widgets[name]["default"] == item.default and widgets[name]["tooltip"] == spec.help, (node, name)
            if spec.maximum is not None:
                assert (widgets[name]["min"], widgets[name]["max"]) == (spec.minimum, spec.maximum), (node, name)
            if spec.choices:
                assert widgets[name]["options"] == list(spec.choices)
