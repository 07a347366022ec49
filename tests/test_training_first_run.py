"""What a first training run meets: the docs' quick start as written, the EMA of a short run, the final message, the
Hub push (checked before step 0; a failed push keeps ``final/`` and says how to push again) and the card's licence."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import inpaint_core as ic
from inpaint_core.catalog import UTKFACE_LICENSE
from training.cli import build_parser, parse_args
from training.data import MaskSampler
from training.data_terms import UNKNOWN_TERMS, card_license
from training.ema import Ema

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    """A folder named like the UTKFace one (``utkface/images``) with 6 small images and a ``train.txt``."""
    root = tmp_path_factory.mktemp("data") / "utkface"
    images = root / "images"
    images.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(images / f"{i}.png")
    (root / "train.txt").write_text("".join(f"{i}.png\n" for i in range(6)))
    return root


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)]), "OMP_NUM_THREADS": "1"}
    return {**env, "TQDM_DISABLE": "1", **extra}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=300
    )


def quick_start_command() -> list[str]:
    """The first command of docs/training.md's "Train" block, as a user would paste it."""
    text = (ROOT / "docs" / "training.md").read_text()
    block = text.split("## Train", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    command = ""
    for line in lines:
        command += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            break
    return shlex.split(command)


def test_docs_quick_start_runs_and_says_where_the_weights_are(faces: Path, tmp_path: Path):
    """The quick start as written (the data paths pointed at a stand-in folder, fewer steps): no mask folder needed,
    a sample grid at the end, the path of the weights printed, and a research-only card for UTKFace data."""
    command = quick_start_command()
    assert command[:4] == ["OMP_NUM_THREADS=1", "python", "-m", "training.train"], command
    args = command[4:]
    for flag, value in (("--data.root", faces / "images"), ("--data.file_list", faces / "train.txt"),
                        ("--output_dir", tmp_path / "try")):
        assert flag in args, (flag, command)
        args[args.index(flag) + 1] = str(value)
    assert "../shared/data/masks" not in " ".join(command)  # never the NVIDIA test masks
    done = _run(["training.train", *args, "--steps", "3"])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    weights = tmp_path / "try" / "final" / "model.safetensors"
    assert f"final weights: {weights}" in done.stdout
    ic.load_model(weights)  # the printed path loads
    assert (tmp_path / "try" / "samples" / "step_00000003.png").is_file()
    card = (tmp_path / "try" / "final" / "README.md").read_text()
    assert "license: other" in card and UTKFACE_LICENSE in card and "apache" not in card.lower()


def test_default_mask_mix_needs_no_mask_folder_and_help_never_suggests_the_test_masks():
    config = parse_args(["--preset", "mdrn-tiny", "--data.root", "x"])
    hole = MaskSampler(config.mask, 32)(torch.Generator().manual_seed(0))
    assert hole.shape == (1, 32, 32) and 0 < float(hole.mean()) < 1
    assert "nvidia" not in config.mask.mix and "nvidia_irregular/png" not in build_parser().format_help()
    config.mask.folder = "my_masks"  # a folder the mix does not use would be silently ignored
    with pytest.raises(ValueError, match="does not use it"):
        MaskSampler(config.mask, 32)


def test_ema_of_a_short_run_is_its_trained_weights():
    """300 steps of a weight moving from 0 to 1: with the warm-up the average ends near 1; plain 0.999 keeps most of
    the initial 0 (what made the quick start's samples noise)."""
    net = torch.nn.Linear(1, 1, bias=False)
    averages = {}
    for warmup in (True, False):
        torch.nn.init.zeros_(net.weight)
        ema = Ema(net, 0.999, warmup=warmup)
        for step in range(300):
            with torch.no_grad():
                net.weight.fill_((step + 1) / 300)
            ema.update(net, step)
        averages[warmup] = float(ema.model.weight)
    assert averages[True] > 0.9 and averages[False] < 0.3, averages
    assert Ema(net, 0.999, start_step=10).decay_at(5) == 0 and Ema(net, 0.999).decay_at(10**6) == 0.999


def test_card_licence_follows_the_data():
    assert card_license("", "../shared/data/faces/utkface/images") == ("other", UTKFACE_LICENSE)
    assert card_license("", "my_photos") == ("other", UNKNOWN_TERMS)
    assert card_license("mit", "../shared/data/faces/utkface/images") == ("mit", "mit")  # stated: kept


def _tiny_run(out: Path, faces: Path, *extra: str) -> list[str]:
    return ["training.train", "--model.preset", "tinytest.tiny", "--model.imports", "tiny_family", "--data.root",
            str(faces / "images"), "--data.size", "32", "--data.num_workers", "0", "--batch_size", "2", "--steps",
            "2", "--log.sample_every", "0", "--log.tensorboard", "false", "--output_dir", str(out), *extra]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("problem", ["no token", "bad token", "unreachable", "other owner"])
def test_push_problems_stop_the_run_before_step_0(problem: str, local_hub, faces: Path, tmp_path: Path):
    env = {"HF_HOME": str(tmp_path / "hf")}  # no stored login
    repo = "someone-else/tiny" if problem == "other owner" else "me/tiny"
    if problem == "no token":
        env["HF_TOKEN"] = ""
    elif problem == "bad token":
        env["HF_TOKEN"] = "hf_wrong"
    elif problem == "unreachable":
        env["HF_ENDPOINT"] = f"http://127.0.0.1:{_closed_port()}"
    done = _run(_tiny_run(tmp_path / "run", faces, "--push_to_hub", repo), **env)
    assert done.returncode != 0
    expected = {"no token": "needs a Hub write token", "bad token": "refused the token",
                "unreachable": "cannot reach the Hub", "other owner": "cannot create someone-else/tiny"}[problem]
    assert expected in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 3, done.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()  # stopped before step 0


def test_failed_push_keeps_final_and_gives_the_command_that_pushes_it(local_hub, faces: Path, tmp_path: Path):
    local_hub.commit_failure = 503
    done = _run(_tiny_run(tmp_path / "run", faces, "--push_to_hub", "me/tiny"))
    final = tmp_path / "run" / "final"
    assert done.returncode == 1 and (final / "model.safetensors").is_file()
    assert "Traceback" not in done.stderr and "HTTP 503" in done.stderr, done.stderr[-2000:]
    assert f"The model is saved in {final}" in done.stderr
    retry = re.search(r"^\s+(python -m training\.publish .+)$", done.stderr, re.M)
    assert retry, done.stderr
    local_hub.commit_failure = None
    again = _run(shlex.split(retry.group(1))[2:])
    assert again.returncode == 0, again.stderr[-2000:]
    files = local_hub.repos["me/tiny"].files_at("main")[1]
    assert sorted(files) == ["README.md", "config.json", "model.safetensors"]


def test_publish_prints_help_and_refuses_a_folder_without_weights(local_hub, tmp_path: Path):
    shown = _run(["training.publish", "--help"])
    assert shown.returncode == 0 and "usage: python -m training.publish" in shown.stdout and "repo_id" in shown.stdout
    refused = _run(["training.publish", str(tmp_path), "me/empty"])
    assert refused.returncode != 0 and "has no model.safetensors" in refused.stderr
    assert "Traceback" not in refused.stderr
