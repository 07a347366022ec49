"""The command line, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inpaint_core", *args], capture_output=True, text=True, env=env)


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


def test_folder_split_across_two_processes_matches_one(tmp_path):
    """``accelerate launch --multi_gpu --num_processes 2`` runs the CLI twice (on a machine without GPUs too: torchrun
    starts the processes; accelerate's ``--cpu`` starts only one unless given an MPI hostfile); each process inpaints
    its share of the folder by the RANK and WORLD_SIZE it sets, and the outputs equal a one-process run's, byte for
    byte."""
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    names = ("a", "bb", "ccc", "dddd", "eeeee")
    for name in names:
        write_pair(tmp_path, name)
    common = [str(tmp_path / "images"), str(tmp_path / "masks"), "--model", "deepfill-compact-utkface"]
    # each launched process runs 1 thread; so does the reference run, because another thread count sums the
    # convolutions in another order (outputs then differ by 1/255 at a few pixels)
    one = run("inpaint", *common, "-o", str(tmp_path / "one"), env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert one.returncode == 0, one.stderr
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                "--num_cpu_threads_per_process", "1", "--num_machines", "1", "--mixed_precision", "no",
                "--dynamo_backend", "no", "-m", "inpaint_core"]
    two = subprocess.run([*launcher, "inpaint", *common, "-o", str(tmp_path / "two"), "--device", "cpu"],
                         capture_output=True, text=True)
    assert two.returncode == 0, two.stderr
    assert "(process 1 of 2)" in two.stdout and "(process 2 of 2)" in two.stdout
    assert "wrote 3 image(s)" in two.stdout and "wrote 2 image(s)" in two.stdout
    assert "process 2/2" in two.stderr  # each process's progress bar
    for name in names:
        assert (tmp_path / "one" / f"{name}.png").read_bytes() == (tmp_path / "two" / f"{name}.png").read_bytes()


def test_shares_cover_every_job_once_and_bad_ranks_are_errors(monkeypatch):
    from inpaint_core.errors import InpaintError
    from inpaint_core.sharding import share

    jobs = list("abcdefg")
    shares = []
    for rank in range(3):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "3")
        shares.append(share(jobs))
    assert sorted(index for part in shares for index, _ in part) == list(range(7))
    assert [len(part) for part in shares] == [3, 2, 2]
    monkeypatch.setenv("RANK", "3")
    with pytest.raises(InpaintError, match="RANK=3 and WORLD_SIZE=3"):
        share(jobs)
