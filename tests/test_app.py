"""The Gradio app, served for real on 127.0.0.1 and called with ``gradio_client``."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

import inpaint_core as ic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Every pipeline option at its default, in the order the endpoints take them.
#: The app's pipeline controls, in order: every option but the model-wide ones (which it keeps at their defaults).
PER_REQUEST = [name for name in ic.InpaintOptions.specs() if name not in ic.InpaintOptions.MODEL_WIDE]
DEFAULTS = tuple(ic.InpaintOptions().as_kwargs()[name] for name in PER_REQUEST)


def load_app():
    """``gradio_app.py`` from the repository root (it is a script, not part of the installed package)."""
    if "gradio_app" not in sys.modules:
        spec = importlib.util.spec_from_file_location("gradio_app", ROOT / "gradio_app.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["gradio_app"] = module
        spec.loader.exec_module(module)
    return sys.modules["gradio_app"]


def test_importing_the_app_builds_nothing(tmp_path):
    """Importing ``gradio_app`` defines things only: the UI is built (and its example pictures written) on first use
    of ``demo``, as ``python gradio_app.py`` and the tests do."""
    import subprocess

    code = ("import sys; sys.path.insert(0, sys.argv[1]); import gradio_app; "
            "assert 'demo' not in vars(gradio_app); import os; print(sorted(os.listdir(sys.argv[2])))")
    env = {**os.environ, "TMPDIR": str(tmp_path), "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-c", code, str(ROOT), str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "inpaint_gan_app_examples" not in done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app():
    module = load_app()
    _, url, _ = module.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                                   quiet=True, **module.LAUNCH_OPTIONS)
    yield module, url
    module.demo.close()


@pytest.fixture(scope="module")
def client(app):
    return Client(app[1], verbose=False)


def smooth_image(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth colourful uint8 picture (gradients plus a few discs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    channels = [np.sin(rng.uniform(2, 6) * x + rng.uniform(2, 6) * y + rng.uniform(0, 6)) for _ in range(3)]
    return ((np.stack(channels, -1) * 0.4 + 0.5) * 255).astype(np.uint8)


def box_mask(height: int, width: int, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = 255
    return mask


def save(tmp_path: Path, name: str, array: np.ndarray) -> str:
    path = tmp_path / name
    Image.fromarray(array).save(path)
    return str(path)


def expected(image: np.ndarray, mask: np.ndarray, model: str = "opencv.telea", strategy: str = "crop") -> np.ndarray:
    result = ic.inpaint(ic.load_model(model), image, mask > 127, strategy)
    return np.asarray(ic.image_ops.to_pil(result))


def read(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_api_inpaints_the_hole_only(client, tmp_path):
    image, mask = smooth_image(72, 96, 0), box_mask(72, 96, (20, 30, 44, 60))
    image[20:44, 30:60] = (255, 0, 255)  # an object to remove
    out = read(client.predict(handle_file(save(tmp_path, "i.png", image)), handle_file(save(tmp_path, "m.png", mask)),
                              "opencv.telea", "crop", api_name="/inpaint"))
    assert out.shape == image.shape
    keep = mask == 0
    assert np.array_equal(out[keep], image[keep]), "pixels outside the hole must come back unchanged"
    assert np.abs(out[~keep].astype(int) - (255, 0, 255)).mean() > 60, "the magenta object should be gone"
    assert np.array_equal(out, expected(image, mask))


def test_api_lists_the_plain_endpoint(client):
    endpoint = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/inpaint"]
    names = ["image", "mask", "model", *PER_REQUEST]
    assert [p["label"] for p in endpoint["parameters"]] == names
    defaults = {p["label"]: p["parameter_default"] for p in endpoint["parameters"] if p["parameter_has_default"]}
    assert defaults == {"model": ic.DEFAULT_MODEL, **dict(zip(PER_REQUEST, DEFAULTS))}


@pytest.mark.parametrize(
    ("mask_shape", "model", "message"),
    [
        ((50, 50), "opencv.telea", "give a mask of the image's size"),  # another aspect ratio
        ("full", "opencv.telea", "covers the whole image"),
        ((64, 96), "no_such.model", "unknown model"),
        ((64, 96), "mdrn.tiny", "without trained weights"),  # a preset: a network with no trained weights
    ],
)
def test_api_bad_inputs_give_readable_errors(client, tmp_path, mask_shape, model, message):
    image = smooth_image(64, 96, 1)
    mask = np.full((64, 96), 255, np.uint8) if mask_shape == "full" else box_mask(*mask_shape, (5, 5, 20, 20))
    with pytest.raises(AppError) as info:
        client.predict(handle_file(save(tmp_path, "i.png", image)), handle_file(save(tmp_path, "m.png", mask)),
                       model, "crop", api_name="/inpaint")
    text = str(info.value)
    assert message in text
    assert "Traceback" not in text


def test_api_empty_mask_returns_the_image(client, tmp_path):
    image = smooth_image(40, 40, 2)
    out = read(client.predict(handle_file(save(tmp_path, "i.png", image)),
                              handle_file(save(tmp_path, "m.png", np.zeros((40, 40), np.uint8))),
                              "opencv.ns", "original", api_name="/inpaint"))
    assert np.array_equal(out, image)


def test_concurrent_clients_each_get_their_own_result(app, tmp_path):
    url = app[1]
    jobs = []
    for index in range(6):
        image = smooth_image(64, 80, 10 + index)
        mask = box_mask(64, 80, (8 + 4 * index, 10 + 5 * index, 30 + 4 * index, 40 + 5 * index))
        model, strategy = ("opencv.telea", "crop") if index % 2 else ("opencv.ns", "resize")
        jobs.append((save(tmp_path, f"i{index}.png", image), save(tmp_path, f"m{index}.png", mask), model, strategy,
                     expected(image, mask, model, strategy)))

    def call(job):
        image_path, mask_path, model, strategy, _ = job
        return read(Client(url, verbose=False).predict(handle_file(image_path), handle_file(mask_path), model,
                                                       strategy, api_name="/inpaint"))

    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(call, jobs))
    for job, out in zip(jobs, results):
        assert np.array_equal(out, job[4])


def test_editor_layer_is_the_hole(client, tmp_path):
    """The UI's endpoint with an ImageEditor payload: painted alpha = hole; returns result, overlay, status."""
    image = smooth_image(64, 64, 3)
    layer = np.zeros((64, 64, 4), np.uint8)
    layer[16:40, 20:44] = (255, 45, 85, 255)
    editor = {"background": handle_file(save(tmp_path, "bg.png", image)),
              "layers": [handle_file(save(tmp_path, "layer.png", layer))], "composite": None}
    result, hole, status = client.predict(editor, None, "opencv.telea", "crop", 64, 0, 0.1, False, 0, 0,
                                          api_name="/inpaint_editor")
    assert np.array_equal(read(result), expected(image, layer[..., 3]))
    hole = read(hole).astype(int)
    assert hole[28, 30, 0] > hole[28, 30, 1] + 60 and np.array_equal(hole[2, 2], image[2, 2])
    assert "opencv.telea" in status and "crop" in status


def test_editor_paint_and_uploaded_mask_add_up(client, tmp_path):
    image = smooth_image(48, 64, 6)
    layer = np.zeros((48, 64, 4), np.uint8)
    layer[4:14, 4:14, 3] = 255
    uploaded = box_mask(24, 32, (12, 16, 20, 24))  # half size, same aspect ratio: resized to the image
    editor = {"background": handle_file(save(tmp_path, "bg.png", image)),
              "layers": [handle_file(save(tmp_path, "layer.png", layer))], "composite": None}
    _, hole, status = client.predict(editor, handle_file(save(tmp_path, "m.png", uploaded)), "opencv.telea", "crop",
                                     64, 0, 0.1, False, 0, 0, api_name="/inpaint_editor")
    tinted = (read(hole).astype(int) - image)[..., 0] > 40
    assert tinted[8, 8] and tinted[32, 40] and not tinted[8, 40] and not tinted[44, 4]
    with pytest.raises(AppError, match="Uploaded mask: .*image's size"):
        client.predict(editor, handle_file(save(tmp_path, "m.png", box_mask(40, 40, (1, 1, 9, 9)))), "opencv.telea",
                       "crop", 64, 0, 0.1, False, 0, 0, api_name="/inpaint_editor")


def test_editor_empty_and_missing_inputs(client, tmp_path):
    image = smooth_image(32, 32, 4)
    editor = {"background": handle_file(save(tmp_path, "bg.png", image)), "layers": [], "composite": None}
    with pytest.raises(AppError, match="mask is empty"):
        client.predict(editor, None, "opencv.telea", *DEFAULTS, api_name="/inpaint_editor")
    with pytest.raises(AppError, match="Upload an image"):
        client.predict(None, None, "opencv.telea", *DEFAULTS, api_name="/inpaint_editor")


def test_compare_runs_every_model_and_reports_failures(client, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the server runs in this process: an uncached repo fails at once
    image = smooth_image(48, 64, 5)
    mask = box_mask(48, 64, (10, 10, 30, 40))
    editor = {"background": handle_file(save(tmp_path, "bg.png", image)), "layers": [], "composite": None}
    gallery, table = client.predict(editor, handle_file(save(tmp_path, "m.png", mask)),
                                    ["opencv.telea", "opencv.ns", "missing/repo-that-is-not-cached"], "crop",
                                    64, 0, 0.1, False, 0, 0, api_name="/compare_editor")
    assert [item["caption"].split(" · ")[0] for item in gallery] == ["opencv.telea", "opencv.ns"]
    rows = {row[0]: row for row in table["data"]}
    assert rows["opencv.telea"][3] == "ok" and rows["opencv.telea"][1] >= 0
    assert "offline" in rows["missing/repo-that-is-not-cached"][3]


def editor_payload(tmp_path: Path, image: np.ndarray) -> dict:
    return {"background": handle_file(save(tmp_path, "bg.png", image)), "layers": [], "composite": None}


def test_faces_without_a_face_says_what_to_do(client, tmp_path):
    app_module = load_app()
    scene, mask = app_module.render_scene(256, 192)
    with pytest.raises(AppError, match="no face found"):
        client.predict(editor_payload(tmp_path, np.asarray(scene)),
                       handle_file(save(tmp_path, "m.png", np.asarray(mask))), "opencv.telea", False, 0.26, 32, 0, 0.1,
                       False, 0, 0, api_name="/faces_editor")


def test_faces_aligned_with_a_face_network_file(client, tmp_path):
    """A face network from a weights file (fresh tiny MDRN weights), the image taken as one aligned face."""
    weights = ic.save_model(ic.build_model("mdrn.tiny"), tmp_path / "mdrn_tiny.safetensors")
    image, mask = smooth_image(64, 64, 7), box_mask(64, 64, (20, 16, 36, 48))
    result, _, status = client.predict(editor_payload(tmp_path, image), handle_file(save(tmp_path, "m.png", mask)),
                                       str(weights), True, 0.26, 32, 0, 0.1, False, 0, 0,
                                       api_name="/faces_editor")
    out = read(result)
    assert out.shape == image.shape and np.array_equal(out[mask == 0], image[mask == 0])
    assert "mdrn.tiny" in status and "aligned face" in status


def test_faces_finds_the_astronaut(client, tmp_path):
    app_module = load_app()
    photos = {label.split(":")[0]: (photo, boxes) for label, photo, boxes in app_module._dependency_photos()}
    if "astronaut" not in photos:
        pytest.skip("scikit-image's sample photos are not installed")
    photo = np.asarray(photos["astronaut"][0].resize((256, 256)))
    mask = box_mask(256, 256, (66, 100, 80, 125))  # the mouth
    result, boxes, status = client.predict(editor_payload(tmp_path, photo),
                                           handle_file(save(tmp_path, "m.png", mask)), "opencv.telea", False, 0.26,
                                           32, 0, 0.1, False, 0, 0, api_name="/faces_editor")
    assert "1 face(s) found" in status and "outside every face" not in status
    yellow = np.all(np.abs(read(boxes).astype(int) - (255, 214, 0)) < 40, axis=-1)
    assert yellow.sum() > 200, "the overlay draws the face box"
    assert not np.array_equal(read(result)[mask > 0], photo[mask > 0])


def test_progress_reaches_the_client(client, tmp_path, monkeypatch):
    """The pipeline's ``progress(done, total)`` per region becomes Gradio progress (3 holes, a slow model)."""
    module = load_app()
    telea = ic.load_model("opencv.telea")

    class SlowModel:
        def get(self, name):
            return self

        def __getattr__(self, attribute):
            return getattr(telea, attribute)

        def predict_outputs(self, image, hole, generator=None):
            time.sleep(0.4)
            return telea.predict_outputs(image, hole, generator)

    monkeypatch.setattr(module, "MODELS", SlowModel())
    image = smooth_image(96, 96, 8)
    mask = np.maximum.reduce([box_mask(96, 96, box) for box in ((4, 4, 12, 12), (40, 40, 48, 48), (80, 80, 90, 90))])
    job = client.submit(editor_payload(tmp_path, image), handle_file(save(tmp_path, "m.png", mask)), "slow", "crop",
                        8, 0, 0.1, False, 0, 0, api_name="/inpaint_editor")
    seen = set()
    while not job.done():
        for unit in job.status().progress_data or []:
            seen.add((unit.index, unit.length, unit.unit))
        time.sleep(0.05)
    assert "opencv.telea" in job.result()[2]
    assert {(1, 3, "regions"), (2, 3, "regions")} & seen, seen


def test_upload_size_limit(app, tmp_path):
    """The server refuses uploads above ``MAX_FILE_SIZE`` (and the client, which reads the limit, refuses to send)."""
    import httpx

    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (21 * 1024 * 1024))
    with open(big, "rb") as handle:
        response = httpx.post(f"{app[1]}gradio_api/upload", files={"files": ("big.png", handle, "image/png")},
                              timeout=60)
    assert response.status_code == 413, response.text
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        Client(app[1], verbose=False).predict(handle_file(str(big)), handle_file(str(big)), "opencv.telea", "crop",
                                              api_name="/inpaint")


def test_model_cache_is_lru_and_bounded():
    module = load_app()
    cache = module.ModelCache(2, "cpu")
    first = cache.get("opencv.telea")
    cache.get("opencv.ns")
    assert cache.get("opencv.telea") is first
    cache.get("opencv.ns")
    assert list(cache._models) == ["opencv.telea", "opencv.ns"]
    with pytest.raises(ic.UnknownModelError):
        cache.get("nope.nope")
    assert len(cache._models) == 2


def test_model_cache_loads_a_model_once_for_concurrent_users(monkeypatch):
    module = load_app()
    calls = []

    def slow_load(name, device="cpu"):
        calls.append(name)
        time.sleep(0.2)
        return ic.build_model(name)

    monkeypatch.setattr(module.ic, "load_model", slow_load)
    cache = module.ModelCache(2, "cpu")
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(cache.get, ["opencv.telea"] * 3 + ["opencv.ns"]))
    assert sorted(calls) == ["opencv.ns", "opencv.telea"]
    assert models[0] is models[1] is models[2]


def test_local_paths_can_be_refused(monkeypatch, tmp_path):
    module = load_app()
    weights = str(ic.save_model(ic.build_model("mdrn.tiny"), tmp_path / "m.safetensors"))
    assert module.load(weights).name == "mdrn.tiny"
    monkeypatch.setattr(module, "ALLOW_PATHS", False)
    for name in (weights, "models/m.safetensors", "../m.pth"):
        with pytest.raises(module.gr.Error, match="paths are disabled"):
            module.load(name)
    monkeypatch.setenv("INPAINT_MODELS_DIR", str(tmp_path))  # a file in a models folder is always allowed
    assert module.load(weights).name == "mdrn.tiny"
    assert not module.is_local_path("owner/repo") and not module.is_local_path("opencv.telea")


def test_mask_pictures_with_transparency_use_alpha():
    module = load_app()
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:5, 2:5] = (0, 0, 0, 255)  # black paint on transparency: still a hole
    hole = module.mask_from_picture(Image.fromarray(rgba))
    assert hole[3, 3] == 1 and hole[0, 0] == 0
    opaque = Image.fromarray(np.full((8, 8, 4), 255, np.uint8))
    assert opaque.mode == "RGBA" and module.mask_from_picture(opaque).mode == "RGB"


def test_examples_render_offline():
    module = load_app()
    examples = module.example_files()
    assert examples[0][0].startswith("rendered scene")
    for _, image_path, mask_path in examples:
        image, mask = Image.open(image_path), Image.open(mask_path)
        assert image.mode == "RGB" and mask.mode == "L" and mask.size == image.size
        assert 0 < np.asarray(mask).mean() / 255 < 0.3


def test_every_option_has_its_control(app):
    """The Pipeline options accordion and the Faces tab show each option with its label, default and range."""
    components = {c["props"].get("elem_id"): c["props"] for c in app[0].demo.config["components"]}
    for name in ic.InpaintOptions.MODEL_WIDE:  # one cached model serves every visitor: not changed per request
        assert "option-" + name not in components
    for prefix, options_cls in (("option-", ic.InpaintOptions), ("face-option-", ic.FaceOptions)):
        for name, (item, spec) in options_cls.specs().items():
            if name in getattr(options_cls, "MODEL_WIDE", ()):
                continue
            props = components[prefix + name]
            assert props["label"] == spec.label and props["value"] == item.default, name
            if spec.maximum is not None and name != "seed":
                assert (props["minimum"], props["maximum"]) == (spec.minimum, spec.maximum), name


def test_every_option_reaches_the_pipeline_through_the_api(client, tmp_path):
    image, mask = smooth_image(48, 64, 9), box_mask(48, 64, (10, 12, 30, 40))
    options = ic.InpaintOptions(strategy="resize", margin=16, feather_pixels=3, threshold=0.5, color_match=True,
                                working_size=32, seed=4)
    out = read(client.predict(handle_file(save(tmp_path, "i.png", image)), handle_file(save(tmp_path, "m.png", mask)),
                              "opencv.telea", *(options.as_kwargs()[name] for name in PER_REQUEST),
                              api_name="/inpaint"))
    wanted = ic.inpaint(ic.load_model("opencv.telea"), image, mask, options=options)
    assert np.array_equal(out, np.asarray(ic.image_ops.to_pil(wanted)))


# ------------------------------------------------------------------ what a first-time user hit (issue 22)


def test_a_request_that_would_exhaust_memory_is_refused_and_the_server_answers_the_next(client, tmp_path):
    """A 2000x1500 photo with CTSDG and the 'original' strategy took 12 GB: it is refused before any work."""
    image, mask = smooth_image(1500, 2000, 11), box_mask(1500, 2000, (600, 800, 700, 950))
    image_path, mask_path = save(tmp_path, "big.png", image), save(tmp_path, "big_mask.png", mask)
    with pytest.raises(AppError, match="would see the whole 2000x1500 image in one pass.*crop strategy"):
        client.predict(handle_file(image_path), handle_file(mask_path), "ctsdg-compact-utkface", "original",
                       api_name="/inpaint")
    with pytest.raises(AppError, match="1024x1024 pixels in each pass"):
        client.predict(handle_file(image_path), handle_file(mask_path), "mdrn-compact-utkface", "resize", 64, 0, 0.1,
                       False, 1024, api_name="/inpaint")
    small, small_mask = smooth_image(64, 64, 12), box_mask(64, 64, (20, 20, 40, 40))
    out = read(client.predict(handle_file(save(tmp_path, "s.png", small)), handle_file(save(tmp_path, "sm.png",
                              small_mask)), "ctsdg-compact-utkface", "original", api_name="/inpaint"))
    assert out.shape == small.shape


def test_a_16_bit_grayscale_png_is_decoded_by_inpaint_core(client, tmp_path):
    values = np.tile(np.linspace(2000, 60000, 80).astype(np.uint16), (48, 1))
    picture = Image.fromarray(values)  # mode I;16
    path = tmp_path / "sixteen.png"
    picture.save(path)
    mask = box_mask(48, 80, (10, 20, 30, 50))
    out = read(client.predict(handle_file(str(path)), handle_file(save(tmp_path, "m.png", mask)), "opencv.telea",
                              api_name="/inpaint"))
    wanted = ic.image_ops.to_pil(ic.inpaint(ic.load_model("opencv.telea"), Image.open(path), mask > 127))
    assert np.array_equal(out, np.asarray(wanted))
    assert (out == 255).mean() < 0.05, "the 16-bit values must not be clipped to white"


def test_transparent_pixels_stay_transparent(client, tmp_path):
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., :3] = smooth_image(48, 64, 13)
    rgba[:, 32:, 3] = 255  # the left half is fully transparent (its colour stored as black)
    rgba[:, :32, :3] = 0
    layer = np.zeros((48, 64, 4), np.uint8)
    layer[10:30, 36:56, 3] = 255
    editor = {"background": handle_file(save(tmp_path, "bg.png", rgba)),
              "layers": [handle_file(save(tmp_path, "layer.png", layer))], "composite": None}
    result, _, _ = client.predict(editor, None, "opencv.telea", *DEFAULTS, api_name="/inpaint_editor")
    out = np.asarray(Image.open(result))
    assert out.shape == (48, 64, 4) and np.array_equal(out[..., 3], rgba[..., 3])


@pytest.mark.parametrize("where", ["api image", "api mask", "editor image", "editor mask"])
def test_corrupt_files_get_a_readable_message(client, tmp_path, where):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(Image.open(save(tmp_path, "ok.png", smooth_image(32, 32, 1))).tobytes()[:500])
    good_image, good_mask = save(tmp_path, "i.png", smooth_image(32, 32, 2)), save(tmp_path, "m.png",
                                                                                    box_mask(32, 32, (8, 8, 16, 16)))
    with pytest.raises(AppError, match="cannot (read|decode) .*corrupt.png") as info:
        if where.startswith("api"):
            image, mask = (corrupt, good_mask) if where == "api image" else (good_image, corrupt)
            client.predict(handle_file(str(image)), handle_file(str(mask)), "opencv.telea", api_name="/inpaint")
        else:
            background = str(corrupt) if where == "editor image" else good_image
            editor = {"background": handle_file(background), "layers": [], "composite": None}
            mask = handle_file(str(corrupt)) if where == "editor mask" else None
            client.predict(editor, mask, "opencv.telea", *DEFAULTS, api_name="/inpaint_editor")
    assert ("Uploaded mask" in str(info.value)) == (where == "editor mask")


def test_a_photo_above_the_limit_is_scaled_down_in_the_editor_and_refused_by_the_api(client, tmp_path):
    wide = smooth_image(120, 4200, 14)
    mask = box_mask(120, 4200, (40, 2000, 80, 2100))
    editor = {"background": handle_file(save(tmp_path, "wide.png", wide)), "layers": [], "composite": None}
    result, _, status = client.predict(editor, handle_file(save(tmp_path, "m.png", mask)), "opencv.telea", *DEFAULTS,
                                       api_name="/inpaint_editor")
    assert Image.open(result).size == (4096, 117) and "scaled down from 4200x120 to 4096x117" in status
    with pytest.raises(AppError, match="4200x120 .*at most 4096 pixels per side: scale it down"):
        client.predict(handle_file(save(tmp_path, "w.png", wide)), handle_file(save(tmp_path, "m.png", mask)),
                       "opencv.telea", api_name="/inpaint")


def test_example_masks_cover_the_objects_they_name():
    """Points on the edges of each named object (read off an overlay of the photo), as fractions (x, y)."""
    module = load_app()
    photos = {label.split(" (")[0]: (photo, boxes) for label, photo, boxes in module._dependency_photos()}
    if not photos:
        pytest.skip("scikit-image's sample photos are not installed")
    edges = {
        "coffee: remove the spoon": [(0.685, 0.17), (0.7, 0.24), (0.635, 0.6), (0.53, 0.7), (0.67, 0.66),
                                     (0.6, 0.81)],
        "astronaut: remove the shuttle model": [(0.8, 0.01), (0.7, 0.42), (0.89, 0.42), (0.75, 0.55), (0.88, 0.55),
                                                (0.9, 0.3)],
    }
    for label, points in edges.items():
        photo, boxes = photos[label]
        mask = np.asarray(module._blob_mask(photo.size, boxes)) > 0
        for x, y in points:
            assert mask[int(y * photo.height), int(x * photo.width)], (label, x, y)


def test_api_outpaints_the_new_area_only(client, tmp_path):
    image = smooth_image(64, 80, 3)
    out = read(client.predict(handle_file(save(tmp_path, "i.png", image)), "opencv.telea", 0, 16, 24, 0,
                              api_name="/outpaint"))
    assert out.shape == (64 + 16, 80 + 24, 3)
    # the new area is filled from the picture's colours; beyond the 8-pixel overlap and the 8-pixel feather band the
    # picture is unchanged
    assert np.array_equal(out[16 + 16 :, : 80 - 16], image[16:, : 80 - 16])
    assert np.abs(out[:16, :80].astype(int) - image[:16].astype(int)).mean() < 40
    with pytest.raises(AppError, match="at least one side"):
        client.predict(handle_file(save(tmp_path, "i.png", image)), "opencv.telea", 0, 0, 0, 0, api_name="/outpaint")


def test_model_list_is_grouped_by_kind_with_sizes_and_licences():
    choices = load_app().model_choices()
    assert [value for _, value in choices[:2]] == ["auto", "auto-face"]  # the automatic choices come first
    kinds = [label.split(" · ")[0] for label, _ in choices[2:]]
    assert kinds == sorted(kinds, key=["scene", "face", "classical", "file"].index)  # grouped, in this order
    labels = dict((value, label) for label, value in choices)
    assert labels[ic.DEFAULT_MODEL].startswith(f"face · {ic.DEFAULT_MODEL} · bundled · ") and " MB · " in labels[
        ic.DEFAULT_MODEL]
    assert labels["psp-ffhq-encode"] == "face · psp-ffhq-encode · download 1.2 GB · non-commercial"
    assert labels["opencv.telea"] == "classical · opencv.telea · ready · no weights"
