"""The command line, run as a user would."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inpaint_core", *args], capture_output=True, text=True)


def write_pair(folder, name: str) -> None:
    rng = np.random.default_rng(len(name))
    Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(folder / "images" / f"{name}.jpg")
    mask = np.zeros((48, 64), np.uint8)
    mask[10:20, 10:30] = 255
    Image.fromarray(mask).save(folder / "masks" / f"{name}.png")


def test_single_image_and_folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for name in ("a", "b"):
        write_pair(tmp_path, name)
    single = run(
        "inpaint",
        str(tmp_path / "images" / "a.jpg"),
        str(tmp_path / "masks" / "a.png"),
        "-o",
        str(tmp_path / "a_out.png"),
    )
    assert single.returncode == 0, single.stderr
    assert Image.open(tmp_path / "a_out.png").size == (64, 48)
    folder = run(
        "inpaint",
        str(tmp_path / "images"),
        str(tmp_path / "masks"),
        "-o",
        str(tmp_path / "out"),
        "--model",
        "opencv.ns",
        "--strategy",
        "resize",
    )
    assert folder.returncode == 0, folder.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]


def test_errors_are_one_readable_line(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    write_pair(tmp_path, "a")
    result = run(
        "inpaint",
        str(tmp_path / "images" / "a.jpg"),
        str(tmp_path / "masks" / "a.png"),
        "-o",
        str(tmp_path / "x.png"),
        "--model",
        "no-such-model",
    )
    assert result.returncode == 2 and result.stderr.startswith("error: unknown model 'no-such-model'")


def test_list():
    result = run("list")
    assert result.returncode == 0 and "opencv.telea  (ready offline)" in result.stdout
