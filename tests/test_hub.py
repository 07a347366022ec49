"""Weights resolution and download against the local Hub server, with the real huggingface_hub client over HTTP."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import inpaint_core as ic
from inpaint_core import catalog as catalog_module
from inpaint_core.catalog import WeightsEntry
from inpaint_core.hub import file_sha256
from inpaint_core.model_info import model_info

REPO = "inpaint-gan/test-weights"


def weights_bytes(radius: int = 5) -> bytes:
    """A real model file (opencv.telea, whose radius tells versions apart), as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        return ic.save_model(
            ic.build_model("opencv.telea", radius=radius), Path(folder) / "m.safetensors"
        ).read_bytes()


@pytest.fixture
def entry(local_hub, monkeypatch):
    """A catalog entry for a file on the local Hub, pinned to its first commit, removed after the test."""
    data = weights_bytes(radius=3)
    revision = local_hub.commit(REPO, {"model.safetensors": data})
    local_hub.commit(REPO, {"model.safetensors": weights_bytes(radius=7)})  # main moves on
    spec = WeightsEntry(
        name="test-telea",
        family="opencv",
        preset="telea",
        license="Apache-2.0",
        data="none",
        repo_id=REPO,
        revision=revision,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    monkeypatch.setitem(catalog_module._CATALOG, spec.name, spec)
    return spec


def test_download_by_catalog_name_pins_revision(entry, local_hub):
    model = ic.load_model("test-telea")
    assert model.config.radius == 3  # the pinned commit, not main's newer file
    assert local_hub.requests[("GET", "model.safetensors")] == 1


def test_cache_is_reused_without_network(entry, local_hub, monkeypatch):
    ic.load_model("test-telea")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    local_hub.failures["model.safetensors"] = 500
    assert ic.load_model("test-telea").config.radius == 3
    assert local_hub.requests[("GET", "model.safetensors")] == 1


def test_offline_without_cache_names_file_folder_and_url(entry, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ic.WeightsError) as error:
        ic.load_model("test-telea", models_dirs=[tmp_path])
    message = str(error.value)
    assert "offline" in message and "test-telea.safetensors" in message and str(tmp_path) in message
    assert f"/{REPO}/resolve/{entry.revision}/model.safetensors" in message


def test_download_reports_progress_and_the_picker_sees_it_cached(entry, local_hub):
    assert model_info("test-telea").status == "download"
    reports = []
    ic.load_model("test-telea", progress=lambda done, total: reports.append((done, total)))
    size = len(weights_bytes(radius=3))
    assert reports and reports[-1] == (size, size) and all(done <= total for done, total in reports)
    assert model_info("test-telea").status == "cached"


def test_no_network_fails_on_the_first_attempt(entry, monkeypatch):
    """A Hub that cannot be reached gives the clear error from one request, not after the client's retries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections are refused
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(ic.WeightsError, match="cannot reach .* check the network connection"):
        ic.load_model("test-telea")


def test_models_folder_comes_before_the_hub(entry, local_hub, tmp_path):
    ic.save_model(ic.build_model("opencv.telea", radius=9), tmp_path / "test-telea.safetensors")
    assert ic.load_model("test-telea", models_dirs=[tmp_path]).config.radius == 9
    assert local_hub.requests[("GET", "model.safetensors")] == 0


def test_models_dir_from_environment(entry, tmp_path, monkeypatch):
    ic.save_model(ic.build_model("opencv.telea", radius=11), tmp_path / "test-telea.safetensors")
    monkeypatch.setenv("INPAINT_MODELS_DIR", str(tmp_path))
    assert ic.load_model("test-telea").config.radius == 11


def test_sha256_mismatch_is_rejected_and_evicted(entry, local_hub, monkeypatch):
    monkeypatch.setitem(catalog_module._CATALOG, entry.name, WeightsEntry(**{**entry.__dict__, "sha256": "0" * 64}))
    with pytest.raises(ic.WeightsError, match="sha256"):
        ic.load_model("test-telea")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ic.WeightsError, match="offline"):  # nothing bad was left in the cache
        ic.load_model("test-telea")


def test_truncated_download_leaves_no_file(entry, local_hub, monkeypatch):
    local_hub.failures["model.safetensors"] = "truncate"
    with pytest.raises(ic.WeightsError, match="failed"):
        ic.load_model("test-telea")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ic.WeightsError, match="offline"):  # no complete file was left behind
        ic.load_model("test-telea")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    del local_hub.failures["model.safetensors"]
    assert ic.load_model("test-telea").config.radius == 3  # resumes and verifies


@pytest.mark.parametrize("repo", ["inpaint-gan/missing", f"{REPO}@{'f' * 40}"])
def test_missing_repo_or_revision(local_hub, repo):
    local_hub.commit(REPO, {"model.safetensors": weights_bytes()})
    with pytest.raises(ic.WeightsError, match="no such repository or revision"):
        ic.load_model(repo)


def test_missing_file_in_repo(local_hub):
    local_hub.commit(REPO, {"other.bin": b"x"})
    with pytest.raises(ic.WeightsError, match="model.safetensors is not in"):
        ic.load_model(REPO)


@pytest.mark.slow  # the client retries a 503 five times with backoff (about 23 s)
def test_server_error(local_hub):
    local_hub.commit(REPO, {"model.safetensors": weights_bytes()})
    local_hub.failures["model.safetensors"] = 503
    with pytest.raises(ic.WeightsError, match="failed"):
        ic.load_model(REPO)


def test_repo_id_with_revision(local_hub):
    first = local_hub.commit(REPO, {"model.safetensors": weights_bytes(radius=2)})
    local_hub.commit(REPO, {"model.safetensors": weights_bytes(radius=4)})
    assert ic.load_model(REPO).config.radius == 4
    assert ic.load_model(f"{REPO}@{first}").config.radius == 2


def test_unknown_name_lists_what_exists():
    with pytest.raises(ic.UnknownModelError, match="unknown model 'no-such-model'"):
        ic.load_model("no-such-model")


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b/c", "owner/../repo"])
def test_names_that_are_not_models_are_rejected(name):
    with pytest.raises((ic.UnknownModelError, ic.WeightsError)):
        ic.load_model(name)


def test_file_sha256(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_bundled_entries_resolve_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name, spec in catalog_module.catalog().items():
        if spec.bundled:
            assert isinstance(ic.load_model(name), ic.InpaintModel)


def test_import_opens_no_connection_and_no_frontend_package():
    code = (
        "import sys, socket\n"
        "def refuse(*a, **k): raise SystemExit('network used at import')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "import inpaint_core\n"
        "bad = [m for m in ('comfy', 'gradio', 'accelerate') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
