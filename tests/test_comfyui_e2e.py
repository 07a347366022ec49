"""The pack in a real ComfyUI, through its HTTP API (opt-in: set ``COMFYUI_DIR`` to a ComfyUI checkout).

    COMFYUI_DIR=/path/to/ComfyUI COMFYUI_PYTHON=/path/to/its/venv/bin/python pytest tests/test_comfyui_e2e.py -v

ComfyUI starts with ``--cpu`` and ``--base-directory`` set to a temporary folder whose ``custom_nodes`` holds a link
to this checkout, so the ComfyUI checkout itself is not modified. The test checks that ``/object_info`` lists every
node of the pack and that the pack imported without errors, then runs each API-format workflow of ``tests/workflows``
through ``POST /prompt`` and ``/history`` and fetches its output images with ``/view``. A workflow whose model the
loader does not offer (weights not published yet) is skipped with the reason. When Playwright and Chromium are there,
ComfyUI's own editor loads each file of ``example_workflows`` and must turn it into exactly its API-format copy; and
ComfyUI must serve ``example_workflows`` as the pack's templates.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from inpaint_core import build_model, list_models, save_model
from inpaint_core.examples import example
from inpaint_core.masks.generators import generate_mask
from inpaint_core.model_info import name_of_label
from inpaint_core.outpaint import extend_canvas

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "tests" / "workflows").glob("*.json"))
EXAMPLES = sorted((ROOT / "example_workflows").glob("*.json"))
NODE_IDS = ("InpaintGAN_LoadModel", "InpaintGAN_Inpaint", "InpaintGAN_AdjustMask", "InpaintGAN_PreFill",
            "InpaintGAN_FaceCrop", "InpaintGAN_FaceStitch", "InpaintGAN_GenerateMask", "InpaintGAN_CropRegions",
            "InpaintGAN_StitchRegions", "InpaintGAN_ExtendCanvas", "InpaintGAN_CleanMask", "InpaintGAN_ExampleImage")
PACK = "comfyui-inpaint-gan"
#: Fresh weights of each network family's tiny preset, so that its workflow's path through the network runs before
#: trained weights exist (the output is noise in the hole, the image elsewhere).
UNTRAINED = {family: f"{family}-tiny-untrained.safetensors" for family in ("ctsdg", "deepfill", "mdrn", "isfrnet")
             if f"{family}.tiny" in list_models("presets")}
GRID = "inpaint_gan_grid.png"  # 30 separate holes: 30 regions for the crop strategy
START_TIMEOUT, RUN_TIMEOUT = 300, 600
#: A folder to keep each checked output picture in (to look at), when set.
REPORT_DIR = os.environ.get("INPAINT_E2E_REPORT_DIR")

pytestmark = pytest.mark.skipif(
    not os.environ.get("COMFYUI_DIR"),
    reason="set COMFYUI_DIR to a ComfyUI checkout (and COMFYUI_PYTHON to its interpreter) to run the pack in it",
)


def scene(width: int, height: int, holes: list[tuple[int, int, int, int]]) -> Image.Image:
    """A synthetic RGBA picture (gradient sky, ground, stripes) whose transparent boxes are the holes."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([0.3 + 0.4 * x / width, 0.5 + 0.3 * y / height, 0.8 - 0.5 * y / height], -1)
    rgb[y > 0.6 * height] = (0.35, 0.55, 0.25)
    rgb[(y > 0.6 * height) & ((x // max(8, width // 32)) % 2 == 0)] *= 0.8
    image = Image.fromarray((rgb * 255).astype(np.uint8)).convert("RGBA")
    draw = ImageDraw.Draw(image)
    for box in holes:
        draw.rectangle(box, fill=(0, 0, 0, 0))
    return image


def input_images() -> dict[str, Image.Image]:
    """The pictures the tests that start from LoadImage use (the example workflows need none)."""
    return {
        "inpaint_gan_scene.png": scene(512, 384, [(100, 80, 180, 150), (300, 220, 400, 300)]),
        GRID: scene(1024, 768, [(x, y, x + 20, y + 20) for x in range(40, 1000, 160) for y in range(40, 740, 150)]),
    }


class Server:
    def __init__(self, base: Path) -> None:
        comfy = Path(os.environ["COMFYUI_DIR"]).resolve()
        python = os.environ.get("COMFYUI_PYTHON", sys.executable)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = base / "comfyui.log"
        command = [python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
                   "--base-directory", str(base), "--database-url", "sqlite:///:memory:"]
        env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
        self.process = subprocess.Popen(command, cwd=comfy, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                        env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.get("/system_stats")
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"ComfyUI did not start; its log:\n{self.log.read_text()[-4000:]}") from None
                time.sleep(1)

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return response.read()

    def post(self, path: str, payload: dict) -> dict:
        request = urllib.request.Request(self.url + path, data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                return json.loads(body) if body else {}
        except urllib.error.HTTPError as error:
            raise AssertionError(f"POST {path}: {error.code} {error.read().decode()}") from None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("comfyui")
    (base / "custom_nodes").mkdir()
    (base / "custom_nodes" / PACK).symlink_to(ROOT, target_is_directory=True)
    (base / "input").mkdir()
    for name, image in input_images().items():
        image.save(base / "input" / name)
    for family, filename in UNTRAINED.items():
        save_model(build_model(f"{family}.tiny"), base / "models" / "inpaint" / filename)
    running = Server(base)
    yield running
    running.stop()


def test_object_info_lists_every_node(server):
    info = json.loads(server.get("/object_info"))
    missing = [node for node in NODE_IDS if node not in info]
    assert not missing, f"not in /object_info: {missing}"
    for node in NODE_IDS:
        assert info[node]["category"].startswith("inpaint_gan"), info[node]
        assert info[node]["display_name"], info[node]
    failures = [line for line in server.log.read_text().splitlines()
                if PACK in line and ("IMPORT FAILED" in line or "Cannot import" in line)]
    assert not failures, failures


def test_example_workflows_are_templates(server):
    templates = json.loads(server.get("/workflow_templates"))
    assert sorted(templates.get(PACK, [])) == [path.stem for path in EXAMPLES]
    served = json.loads(server.get(f"/api/workflow_templates/{PACK}/{EXAMPLES[0].name}"))
    assert served == json.loads(EXAMPLES[0].read_text())


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.stem for path in WORKFLOWS])
def test_workflow_runs_to_an_image(server, workflow):
    run_workflow(server, json.loads(workflow.read_text()), workflow.name)


@pytest.mark.parametrize("family", sorted(UNTRAINED))
def test_network_workflow_runs_with_untrained_weights(server, family):
    """A network family's workflow with fresh tiny weights from models/inpaint in place of its trained weights."""
    own = ROOT / "tests" / "workflows" / f"inpaint_gan_{family}.json"  # ISFRNet has none: it uses MDRN's
    prompt = json.loads((own if own.is_file() else own.with_name("inpaint_gan_mdrn.json")).read_text())
    for node in prompt.values():
        if node["class_type"] == "InpaintGAN_LoadModel":
            node["inputs"]["model_name"] = UNTRAINED[family]
    run_workflow(server, prompt, f"{family}: {own.name} with {UNTRAINED[family]}")


def test_cancel_stops_a_running_inpaint(server):
    """Cancel (``POST /interrupt``) during the crop strategy's regions stops the Inpaint node between two regions."""
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": GRID}},
        "2": {"class_type": "InpaintGAN_LoadModel", "inputs": {"model_name": UNTRAINED["mdrn"], "hub_repo_id": ""}},
        "3": {"class_type": "InpaintGAN_Inpaint", "inputs": {
            "model": ["2", 0], "image": ["1", 0], "mask": ["1", 1], "strategy": "crop", "margin": 8,
            "feather_pixels": 0.0, "color_match": False, "seed": 0}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "inpaint_gan/cancelled"}},
    }
    prompt_id = server.post("/prompt", {"prompt": prompt, "client_id": uuid.uuid4().hex})["prompt_id"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while not json.loads(server.get("/queue"))["queue_running"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(2)  # into the regions (about 0.3 s each on a CPU core)
    server.post("/interrupt", {})
    status = wait_for(server, prompt_id, "the cancelled run")["status"]
    assert status["status_str"] == "error"
    assert "execution_interrupted" in [message[0] for message in status["messages"]], status


OFFLINE = os.environ.get("HF_HUB_OFFLINE", "1") == "1"


@pytest.mark.skipif(OFFLINE, reason="run with HF_HUB_OFFLINE=0 (and no network, or HF_ENDPOINT at a closed port)")
def test_download_model_without_network_fails_at_once(server):
    """A catalog download chosen with no network: the loader's error, from the first attempt (seconds reported)."""
    offered = json.loads(server.get("/object_info/InpaintGAN_LoadModel"))["InpaintGAN_LoadModel"]
    options = offered["input"]["required"]["model_name"][1]["options"]
    download = next(option for option in options if " · download " in option)
    prompt = {
        "1": {"class_type": "InpaintGAN_ExampleImage", "inputs": {"example": "landscape"}},
        "2": {"class_type": "InpaintGAN_LoadModel", "inputs": {"model_name": download, "hub_repo_id": ""}},
        "3": {"class_type": "InpaintGAN_Inpaint", "inputs": {
            "model": ["2", 0], "image": ["1", 0], "mask": ["1", 1], "strategy": "crop", "margin": 64,
            "feather_pixels": 0.0, "color_match": False, "seed": 0}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "inpaint_gan/nonet"}},
    }
    started = time.monotonic()
    prompt_id = server.post("/prompt", {"prompt": prompt, "client_id": uuid.uuid4().hex})["prompt_id"]
    status = wait_for(server, prompt_id, "the run without network", poll=0.05)["status"]
    report("download model without network: Run to error", {"model": download,
                                                             "seconds": round(time.monotonic() - started, 2)})
    errors = [message[1] for message in status["messages"] if message[0] == "execution_error"]
    assert errors and errors[0]["node_type"] == "InpaintGAN_LoadModel", status
    assert "cannot reach" in errors[0]["exception_message"], errors[0]["exception_message"]


@pytest.mark.skipif(not OFFLINE, reason="the server runs with HF_HUB_OFFLINE=0")
def test_offline_download_error_reaches_the_user(server):
    """With HF_HUB_OFFLINE=1 (set for the server), a Hub repo not in the cache fails with the library's message."""
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "inpaint_gan_scene.png"}},
        "2": {"class_type": "InpaintGAN_LoadModel",
              "inputs": {"model_name": "opencv.telea", "hub_repo_id": "someone/inpaint-weights"}},
        "3": {"class_type": "InpaintGAN_Inpaint", "inputs": {
            "model": ["2", 0], "image": ["1", 0], "mask": ["1", 1], "strategy": "crop", "margin": 64,
            "feather_pixels": 0.0, "color_match": False, "seed": 0}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "inpaint_gan/offline"}},
    }
    prompt_id = server.post("/prompt", {"prompt": prompt, "client_id": uuid.uuid4().hex})["prompt_id"]
    status = wait_for(server, prompt_id, "the offline run")["status"]
    errors = [message[1] for message in status["messages"] if message[0] == "execution_error"]
    assert errors and errors[0]["node_type"] == "InpaintGAN_LoadModel", status
    assert "offline mode is on" in errors[0]["exception_message"], errors[0]["exception_message"]


def wait_for(server: Server, prompt_id: str, name: str, poll: float = 0.5) -> dict:
    """The history entry of a finished prompt."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        history = json.loads(server.get(f"/history/{prompt_id}"))
        if prompt_id in history and history[prompt_id].get("status", {}).get("completed") is not None:
            return history[prompt_id]
        assert time.monotonic() < deadline, f"{name} did not finish in {RUN_TIMEOUT} s"
        time.sleep(poll)


def expected_input(prompt: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """The picture (``[H, W, 3]`` in [0, 1]) and hole (``[H, W]`` bool) a workflow starts from, when it starts from
    an Example Image node (extended as its Extend Canvas node says), else None."""
    example_node = next((node for node in prompt.values() if node["class_type"] == "InpaintGAN_ExampleImage"), None)
    if example_node is None:
        return None
    image, hole = example(example_node["inputs"]["example"])
    for node in prompt.values():
        if node["class_type"] == "InpaintGAN_GenerateMask":
            inputs = node["inputs"]
            hole = generate_mask(inputs["kind"], image.shape[-2], image.shape[-1],
                                 torch.Generator().manual_seed(inputs["seed"]))[None, None].float()
        if node["class_type"] == "InpaintGAN_ExtendCanvas":
            sides = {key: node["inputs"][key] for key in ("left", "top", "right", "bottom")}
            image, hole = extend_canvas(image, **sides, overlap=node["inputs"]["overlap"], fill=node["inputs"]["fill"])
    return image[0].permute(1, 2, 0).numpy(), hole[0, 0].numpy() > 0.5


def check_output(picture: Image.Image, start: tuple[np.ndarray, np.ndarray], name: str) -> dict[str, float]:
    """The hole changed (mean change there > 0.02) and the far pixels (more than 48 px from it) did not (8-bit)."""
    image, hole = start
    output = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255
    assert output.shape == image.shape, f"{name}: output {output.shape}, input {image.shape}"
    change = np.abs(output - image).max(-1)
    far = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5) > 48
    numbers = {"hole_change": float(change[hole].mean()), "far_change_max": float(change[far].max()),
               "hole_pixels": int(hole.sum()), "far_pixels": int(far.sum())}
    assert numbers["hole_change"] > 0.02 and numbers["far_change_max"] <= 1 / 255 + 1e-6, (name, numbers)
    return numbers


def report(what: str, numbers: dict) -> None:
    """Append a measurement to ``REPORT_DIR/numbers.jsonl`` when a report folder is set."""
    if REPORT_DIR:
        with open(Path(REPORT_DIR) / "numbers.jsonl", "a") as handle:
            handle.write(json.dumps({"what": what, **numbers}) + "\n")


def run_workflow(server: Server, prompt: dict, name: str) -> None:
    offered = json.loads(server.get("/object_info/InpaintGAN_LoadModel"))["InpaintGAN_LoadModel"]
    options = offered["input"]["required"]["model_name"][0]
    if isinstance(options, str):  # newer ComfyUI: ["COMBO", {"options": [...]}]
        options = offered["input"]["required"]["model_name"][1]["options"]
    offered_names = {name_of_label(option) for option in options}
    for node in prompt.values():
        model = node["inputs"].get("model_name")
        if node["class_type"] == "InpaintGAN_LoadModel" and name_of_label(model) not in offered_names:
            pytest.skip(f"the loader does not offer {model!r} yet (its weights are not in the catalog)")
    start = expected_input(prompt)
    started = time.monotonic()
    prompt_id = server.post("/prompt", {"prompt": prompt, "client_id": uuid.uuid4().hex})["prompt_id"]
    entry = wait_for(server, prompt_id, name)
    report(name, {"status": entry["status"]["status_str"], "seconds": round(time.monotonic() - started, 1)})
    assert entry["status"]["status_str"] == "success", f"{name}: {json.dumps(entry['status'], indent=1)}"
    saved = [node for node, spec in prompt.items() if spec["class_type"] == "SaveImage"]
    for node in saved:
        images = entry["outputs"][node]["images"]
        assert images, f"SaveImage {node} wrote nothing"
        query = urllib.parse.urlencode({key: images[0][key] for key in ("filename", "subfolder", "type")})
        picture = Image.open(io.BytesIO(server.get(f"/view?{query}")))
        assert picture.size[0] >= 64 and picture.size[1] >= 64, picture.size
        prefix = prompt[node]["inputs"]["filename_prefix"]
        if start is not None and not prefix.endswith(("_mask", "_crops")):
            report(f"{name} -> {prefix}", check_output(picture, start, f"{name} -> {prefix}"))
            if REPORT_DIR:
                picture.save(Path(REPORT_DIR) / f"{prefix.replace('/', '_')}.png")


@pytest.fixture(scope="module")
def editor(server):
    """ComfyUI's web editor in headless Chromium (Debian's, else Playwright's own)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        except sync_api.Error as error:
            pytest.skip(f"no Chromium to run ComfyUI's editor: {error}")
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.goto(server.url, timeout=120_000)
        page.wait_for_function("window.app && window.app.graph", timeout=120_000)
        yield page
        browser.close()


#: Scale and shift the canvas so that the whole graph shows below the editor's tab bar.
FIT_GRAPH = """async () => {
    const settings = window.app.extensionManager?.setting;
    if (settings) {  // text at any zoom, no minimap over the graph
        await settings.set("LiteGraph.Canvas.MinFontSizeForLOD", 1);
        await settings.set("Comfy.Minimap.Visible", false);
    }
    const nodes = window.app.graph._nodes, canvas = window.app.canvas;
    canvas._min_font_size_for_lod = 1;
    const right = Math.max(...nodes.map((n) => n.pos[0] + n.size[0]));
    const bottom = Math.max(...nodes.map((n) => n.pos[1] + n.size[1]));
    const scale = Math.min(1, (canvas.canvas.width - 120) / right, (canvas.canvas.height - 160) / bottom);
    canvas.ds.scale = scale;
    canvas.ds.offset = [50 / scale, 110 / scale];
    canvas.setDirty(true, true);
}"""


@pytest.mark.parametrize("workflow", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_editor_turns_the_example_into_its_api_copy(editor, workflow):
    graph = json.loads(workflow.read_text())
    script = ("async (graph) => { await window.app.loadGraphData(graph); "
              "return (await window.app.graphToPrompt()).output; }")
    prompt = editor.evaluate(script, graph)
    if REPORT_DIR:  # what the user sees: the graph, fitted to the window
        editor.keyboard.press("Escape")  # the template browser a fresh install opens with
        editor.evaluate(FIT_GRAPH)
        editor.wait_for_timeout(500)
        editor.screenshot(path=str(Path(REPORT_DIR) / f"editor_{workflow.stem}.png"))
    expected = json.loads((ROOT / "tests" / "workflows" / workflow.name).read_text())
    assert {key: (node["class_type"], node["inputs"]) for key, node in prompt.items()} == {
        key: (node["class_type"], node["inputs"]) for key, node in expected.items()
    }
