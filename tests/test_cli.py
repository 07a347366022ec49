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
    assert "a.jpg: mdrn-compact-scenes: " in single.stderr  # auto, offline: which bundled network filled it, and why
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


def test_list_separates_ready_models_from_presets_without_weights():
    result = run("list")
    assert result.returncode == 0, result.stderr
    ready, _, rest = result.stdout.partition("downloaded on first use:")
    downloadable, _, presets = rest.partition("presets without trained weights")
    assert "  opencv.telea\n" in ready and "  mdrn-compact-utkface  (auto-face, offline; and auto's faces)\n" in ready
    assert "  mdrn-compact-scenes  (auto, offline)\n" in ready
    assert "ctsdg.tiny" in presets and "ctsdg.tiny" not in ready + downloadable
    assert "opencv.telea" not in downloadable + presets


def test_the_output_type_and_the_inputs_are_checked_before_any_work(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    write_pair(tmp_path, "a")
    image, mask = str(tmp_path / "images" / "a.jpg"), str(tmp_path / "masks" / "a.png")
    # an unreachable Hub model: reaching it would be the first work, and its error would come instead
    bad_suffix = run("inpaint", image, mask, "-o", str(tmp_path / "out.xyz"), "--model", "someone/unreachable")
    assert bad_suffix.returncode == 2 and bad_suffix.stderr.startswith("error: cannot write"), bad_suffix.stderr
    assert ".png" in bad_suffix.stderr and "Traceback" not in bad_suffix.stderr
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes((tmp_path / "masks" / "a.png").read_bytes()[:60])
    broken = run("inpaint", str(truncated), mask, "-o", str(tmp_path / "o.png"), "--model", "someone/unreachable")
    assert broken.returncode == 2 and broken.stderr.startswith("error: cannot "), broken.stderr
    assert truncated.name in broken.stderr
    assert "Traceback" not in broken.stderr
    bad_option = run("inpaint", image, mask, "-o", str(tmp_path / "o.png"), "--threshold", "0")
    assert bad_option.returncode == 2 and "threshold must be in [0.01, 1]" in bad_option.stderr


def test_a_folder_run_reports_what_it_skips_and_goes_on(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for name in ("a", "b", "c"):
        write_pair(tmp_path, name)
    (tmp_path / "masks" / "b.png").unlink()
    (tmp_path / "images" / "c.jpg").write_bytes(b"not a picture")
    result = run("inpaint", str(tmp_path / "images"), str(tmp_path / "masks"), "-o", str(tmp_path / "out"),
                 "--model", "opencv.telea")
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]
    assert "no mask for b.jpg" in result.stderr and "cannot read" in result.stderr
    assert "2 of 3 image(s) skipped: b.jpg, c.jpg" in result.stderr


def test_every_pipeline_option_is_a_flag_and_reaches_the_pipeline(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    write_pair(tmp_path, "a")
    image, mask = str(tmp_path / "images" / "a.jpg"), str(tmp_path / "masks" / "a.png")
    flags = ["--strategy", "resize", "--margin", "16", "--feather-pixels", "3", "--threshold", "0.5",
             "--color-match", "--working-size", "32", "--seed", "4"]
    result = run("inpaint", image, mask, "-o", str(tmp_path / "o.png"), "--model", "opencv.telea", *flags)
    assert result.returncode == 0, result.stderr
    import inpaint_core as ic

    options = ic.InpaintOptions(strategy="resize", margin=16, feather_pixels=3, threshold=0.5, color_match=True,
                                working_size=32, seed=4)
    wanted = ic.inpaint(ic.load_model("opencv.telea"), Image.open(image), Image.open(mask), options=options)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), np.asarray(ic.image_ops.to_pil(wanted)))


def test_faces_command(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    write_pair(tmp_path, "a")
    image, mask = str(tmp_path / "images" / "a.jpg"), str(tmp_path / "masks" / "a.png")
    result = run("faces", image, mask, "-o", str(tmp_path / "f.png"), "--model", "opencv.telea", "--assume-aligned",
                 "--feather-pixels", "2")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "f.png").size == (64, 48)
    help_text = run("faces", "--help").stdout
    assert "--min-face" in help_text and "--margin" in help_text and "--strategy" not in help_text


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
