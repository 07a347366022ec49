"""Faults injected for real: a download killed mid-file, a Hub that fails then recovers, a cached file that rots, a
full disk (a small tmpfs mounted by the test; root only), and parallel loads of one name.

The Hub is ``tests/hub_server.py`` over HTTP with the real ``huggingface_hub`` client; the kills are SIGKILLs of real
processes.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import inpaint_core as ic
from inpaint_core import catalog as catalog_module
from inpaint_core.catalog import WeightsEntry
from inpaint_core.hub import verified_dir

REPO = "inpaint-gan/fault-weights"
ROOT = Path(__file__).resolve().parents[1]


def model_bytes(**overrides) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        model = ic.build_model("mdrn.tiny", **overrides)
        return ic.save_model(model, Path(folder) / "m.safetensors").read_bytes()


def cache_files() -> list[Path]:
    return sorted(p for p in Path(os.environ["HF_HUB_CACHE"]).rglob("*") if p.is_file())


@pytest.fixture
def entry(local_hub, monkeypatch):
    """A catalog entry pinned to a file on the local Hub, with its sha256."""
    data = model_bytes()
    revision = local_hub.commit(REPO, {"model.safetensors": data})
    spec = WeightsEntry(name="fault-mdrn", family="mdrn", preset="tiny", license="Apache-2.0", data="none",
                        repo_id=REPO, revision=revision, sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(catalog_module._CATALOG, spec.name, spec)
    return spec


def _loader(name: str) -> subprocess.Popen:
    code = f"import inpaint_core as ic; ic.load_model({name!r}); print('loaded')"
    # A stalled body must stall the loader until the test kills it: with the client's 10 s read timeout a slow (loaded)
    # machine would see the client resume and finish first.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_DOWNLOAD_TIMEOUT": "300"}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_download_killed_mid_file_leaves_nothing_loadable(local_hub):
    """A loader process SIGKILLed with 10 MB of a 17 MB file on disk: the partial file is not a cache entry (offline,
    nothing loads) and the next load downloads and verifies the whole file. (huggingface_hub writes each process's
    download to its own ``<etag>.<id>.incomplete`` file and resumes only within one call, so the killed process's
    partial file stays behind, unused; see docs/reliability.md.)"""
    data = model_bytes(max_channels=128, refine_channels=32, coarse_channels=32)
    assert len(data) > 12 * 2**20  # the client writes in 10 MB chunks: the kill must leave one on disk
    local_hub.commit(REPO, {"model.safetensors": data})
    local_hub.failures["model.safetensors"] = ["half_then_stall"]
    local_hub.truncate_at = 0.8  # 13 MB before the stall: the client's first 10 MB chunk is on disk while it waits
    local_hub.stall_seconds = 60
    process = _loader(REPO)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".incomplete") and p.stat().st_size > 0 for p in cache_files()):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    partial = [p for p in cache_files() if p.name.endswith(".incomplete")]
    assert len(partial) == 1 and 0 < partial[0].stat().st_size < len(data)
    assert not [p for p in cache_files() if "snapshots" in p.parts], "a partial file must not be a cache entry"
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        with pytest.raises(ic.WeightsError, match="offline"):
            ic.load_model(REPO)
    finally:
        del os.environ["HF_HUB_OFFLINE"]
    assert ic.load_model(REPO).config.max_channels == 128
    blob = next(p for p in cache_files() if "blobs" in p.parts and not p.name.endswith(".incomplete"))
    assert blob.read_bytes() == data


def test_connection_dropped_mid_file_resumes_in_the_same_call(local_hub):
    """The Hub closes the connection after 3/4 of a 17 MB body: the client resumes with a Range request from the
    last 10 MB chunk it wrote, and the load succeeds with the complete, verified file."""
    data = model_bytes(max_channels=128, refine_channels=32, coarse_channels=32)
    local_hub.commit(REPO, {"model.safetensors": data})
    local_hub.failures["model.safetensors"] = ["truncate"]
    local_hub.truncate_at = 0.75
    assert ic.load_model(REPO).config.max_channels == 128
    assert [start for method, _, start in local_hub.ranges if method == "GET"] == [0, 10 * 2**20]


@pytest.mark.parametrize("failures", [[500], [503, 503], [502, "truncate"]], ids=["500", "503x2", "502-truncate"])
def test_hub_failing_then_recovering(entry, local_hub, failures):
    """The client retries 5xx answers with backoff (1 s, 2 s) and resumes a cut body; the model that loads is the
    pinned, checked file."""
    local_hub.failures["model.safetensors"] = list(failures)
    assert isinstance(ic.load_model(entry.name), ic.InpaintModel)
    assert local_hub.failures["model.safetensors"] == []


@pytest.mark.slow  # two processes and a 1 s client timeout
def test_hub_timeout_then_recovering(local_hub):
    """A Hub that does not answer (stalls) within the client's timeout, then answers: the download recovers."""
    local_hub.commit(REPO, {"model.safetensors": model_bytes()})
    local_hub.failures["model.safetensors"] = [None, "stall"]  # the loader's reachability probe, then the download
    local_hub.stall_seconds = 5
    code = f"import inpaint_core as ic; ic.load_model({REPO!r}); print('loaded')"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_ETAG_TIMEOUT": "1", "HF_HUB_DOWNLOAD_TIMEOUT": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr[-2000:]
    assert local_hub.requests[("HEAD", "model.safetensors")] >= 2, "the stalled request was not retried"


def test_cached_file_changed_on_disk_is_found_at_load(entry, local_hub):
    """A bit flipped in the cached blob after a verified download: the next load refuses it, evicts it and says
    to load again, which downloads it anew. A file that did not change is hashed once, not at every load."""
    ic.load_model(entry.name)
    sidecar = verified_dir() / entry.sha256
    assert sidecar.is_file()
    blob = next(p for p in cache_files() if "blobs" in p.parts)
    stamp = sidecar.read_text()
    ic.load_model(entry.name)
    assert sidecar.read_text() == stamp
    data = bytearray(blob.read_bytes())
    data[-5] ^= 0xFF  # in the tensor data: safetensors itself would load it
    blob.write_bytes(bytes(data))
    with pytest.raises(ic.WeightsError, match="changed on disk after it was downloaded") as error:
        ic.load_model(entry.name)
    assert "load the model again" in str(error.value)
    assert not blob.exists(), "the rotten file was removed from the cache"
    assert isinstance(ic.load_model(entry.name), ic.InpaintModel)
    assert local_hub.requests[("GET", "model.safetensors")] == 2


def test_repo_id_download_is_checked_at_load_by_its_blob_name(local_hub):
    """Files without a catalog sha256 are checked too: the HF cache names an LFS blob by its sha256."""
    local_hub.commit(REPO, {"model.safetensors": model_bytes()})
    ic.load_model(REPO)
    blob = next(p for p in cache_files() if "blobs" in p.parts)
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")
    with pytest.raises(ic.WeightsError, match="changed on disk"):
        ic.load_model(REPO)


def test_parallel_loads_of_one_name_download_once(entry, local_hub):
    """8 threads and 3 processes load one catalog name at once: one GET of the file, identical models, one blob,
    no partial files left."""
    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(lambda _: ic.load_model(entry.name), range(8)))
    assert local_hub.requests[("GET", "model.safetensors")] == 1
    state = models[0].state_dict()
    assert all(all((m.state_dict()[k] == v).all() for k, v in state.items()) for m in models)
    for blob in [p for p in cache_files() if "blobs" in p.parts]:
        blob.unlink()  # start again, now with processes
    for link in [p for p in Path(os.environ["HF_HUB_CACHE"]).rglob("*") if p.is_symlink()]:
        link.unlink()
    processes = [_loader(f"{REPO}@{entry.revision}") for _ in range(3)]  # the catalog entry is this process's
    outputs = [process.communicate(timeout=180) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert local_hub.requests[("GET", "model.safetensors")] == 2, local_hub.requests
    blobs = [p for p in cache_files() if "blobs" in p.parts]
    assert len(blobs) == 1 and hashlib.sha256(blobs[0].read_bytes()).hexdigest() == entry.sha256
    assert not [p for p in cache_files() if p.name.endswith((".incomplete", ".partial"))]


# ---------------------------------------------------------------------------------------------------- full disk


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs: a real filesystem that fills up (needs root and mount; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill ``folder``'s filesystem until ``leave`` bytes are free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    (folder / "ballast").write_bytes(b"\0" * max(0, free - leave))


def test_save_model_on_a_full_disk_leaves_nothing(small_disk):
    model = ic.build_model("mdrn.tiny")  # ~1 MB of weights
    _fill(small_disk, 300_000)
    with pytest.raises(ic.WeightsError, match="no space left") as error:
        ic.save_model(model, small_disk / "out" / "m.safetensors")
    assert "free some space" in str(error.value)
    assert sorted(p.name for p in small_disk.rglob("*") if p.is_file()) == ["ballast"]


def test_convert_on_a_full_disk_leaves_nothing(small_disk, tmp_path):
    source = tmp_path / "official.pt"
    model = ic.build_model("ctsdg.tiny")
    import torch

    torch.save({"generator": model.state_dict()}, source)
    _fill(small_disk, 100_000)
    with pytest.raises(ic.WeightsError):
        ic.convert_checkpoint("ctsdg", source, small_disk / "c.safetensors", **model.config.__dict__)
    assert not (small_disk / "c.safetensors").exists()
    assert [p.name for p in small_disk.iterdir()] == ["ballast"]


def test_download_into_a_full_cache_is_a_clear_error(entry, small_disk, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(small_disk / "hub"))
    _fill(small_disk, 200_000)
    with pytest.raises(ic.WeightsError, match="no space left") as error:
        ic.load_model(entry.name)
    assert "HF_HUB_CACHE" in str(error.value)
    (small_disk / "ballast").unlink()  # space again: the download completes and verifies
    assert isinstance(ic.load_model(entry.name), ic.InpaintModel)
    assert not [p for p in small_disk.rglob("*") if p.name.endswith(".incomplete")]
