"""The app in headless Chromium (Debian's ``chromium`` package, driven by Playwright's Python package).

Paints a stroke over the tree of the rendered example scene with the mouse, runs a model, checks that the tree's
trunk is gone from the result shown on the page, then loads examples to compare two models and to run the face crop.
Screenshots go to the test's temporary folder, or to ``$INPAINT_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("INPAINT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

if importlib.util.find_spec("playwright") is None:
    pytest.skip("Playwright's Python package is not installed (pip install playwright)", allow_module_level=True)
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium) or set "
                "INPAINT_CHROMIUM", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

_spec = importlib.util.spec_from_file_location("_test_app_support", Path(__file__).with_name("test_app.py"))
_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_support)
app = _support.app  # the served app (a module-scoped fixture)


@pytest.fixture(scope="module")
def page(app):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("INPAINT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shown_image(page, selector: str) -> np.ndarray:
    """The picture an ``<img>`` on the page shows, fetched from the app as it serves it."""
    source = page.locator(selector).first.get_attribute("src")
    assert source.split("?")[0].endswith(".png"), f"results are served as PNG, got {source}"
    return np.asarray(Image.open(io.BytesIO(page.request.get(source).body())).convert("RGB"))


def test_paint_with_the_brush_and_inpaint(app, page, shots, tmp_path):
    module, url = app
    scene, _ = module.render_scene()
    scene_path = tmp_path / "scene.png"
    scene.save(scene_path)
    page.goto(url, wait_until="networkidle")
    page.locator("#editor input[type=file]").set_input_files(str(scene_path))
    page.locator("#editor button[aria-label=Brush]").click()
    page.wait_for_timeout(500)
    box = page.locator("#editor canvas").first.bounding_box()
    # the editor shows the image centred in its canvas at the zoom its toolbar reads (e.g. "105%")
    scale = float(page.locator("#editor").get_by_text(re.compile(r"^\d+%$")).inner_text()[:-1]) / 100
    left = box["x"] + (box["width"] - scene.width * scale) / 2
    top = box["y"] + (box["height"] - scene.height * scale) / 2
    x = left + 0.61 * scene.width * scale
    page.mouse.move(x, top + 0.45 * scene.height * scale)
    page.mouse.down()
    page.mouse.move(x, top + 0.87 * scene.height * scale, steps=4)  # each move redraws the canvas: keep them few
    page.mouse.up()
    page.locator("#run").click()
    # auto is preselected; with the Hub unreachable it runs the bundled scene network on a picture with no face
    page.locator("#status").get_by_text("auto: mdrn-compact-scenes: no face found").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "app_paint_and_inpaint.png"), full_page=True)
    result = shown_image(page, "#result img")
    assert result.shape == (scene.height, scene.width, 3)
    trunk = np.asarray(scene)[int(0.8 * scene.height), int(0.61 * scene.width)]
    filled = result[int(0.8 * scene.height), int(0.61 * scene.width)]
    assert tuple(trunk) == (100, 70, 45) and filled[1] > filled[0] + 20, "the brown trunk should be grass now"
    hole = shown_image(page, "#hole img")
    assert hole[int(0.8 * scene.height), int(0.61 * scene.width), 0] > 150, "the overlay shows the painted hole"
    # the before/after slider holds the input and the result
    page.locator("#before-after img").nth(1).wait_for()
    before, after = (shown_image(page, f"#before-after img >> nth={index}") for index in (0, 1))
    assert np.array_equal(before, np.asarray(scene)) and np.array_equal(after, result)
    page.locator("#before-after").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "app_before_after.png"), full_page=True)


def test_outpaint_tab(app, page, shots):
    page.goto(app[1], wait_until="networkidle")
    page.get_by_role("button", name="rendered scene: remove the tree").click()
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Outpaint").click()
    page.locator("#outpaint-model input").fill("opencv.telea")
    page.locator("#outpaint-model input").press("Enter")
    page.locator("#run-outpaint").click()
    page.locator("#outpaint-status").get_by_text("opencv.telea").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "app_outpaint.png"), full_page=True)
    result = shown_image(page, "#outpaint-result img")
    assert result.shape == (384, 512 + 128, 3)  # 128 pixels added on the right (the tab's default)
    assert "512x384 -> 640x384" in page.locator("#outpaint-status").inner_text()


def test_example_and_compare(app, page, shots):
    page.goto(app[1], wait_until="networkidle")
    page.get_by_role("button", name="rendered scene: remove the tree").click()
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Compare").click()
    page.locator("#run-compare").click()
    page.locator("#gallery img").nth(1).wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "app_compare.png"), full_page=True)
    captions = page.locator("#gallery").inner_text()
    assert "opencv.telea" in captions and "opencv.ns" in captions


def test_faces_tab_on_the_astronaut(app, page, shots):
    labels = [example[0] for example in app[0].example_files() if "Faces tab" in example[0]]
    if not labels:
        pytest.skip("scikit-image's sample photos are not installed")
    label = labels[0]
    page.goto(app[1], wait_until="networkidle")
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Faces").click()
    page.locator("#run-faces").click()
    page.locator("#face-status").get_by_text("face(s) found").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "app_faces.png"), full_page=True)
    assert "1 face(s) found" in page.locator("#face-status").inner_text()
