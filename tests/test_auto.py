"""The ``auto`` choice: the strongest ready (or, online, downloadable) model, else the bundled one with a notice."""

from __future__ import annotations

import pytest

import inpaint_core as ic
from inpaint_core import catalog as catalog_module

from .test_gan_weights_hub import published_file, serve


def _models_folder(tmp_path, *names: str):
    for name in names:
        preset = "migan.tiny" if name.startswith("migan") else "lama.tiny"
        ic.save_model(ic.build_model(preset), tmp_path / f"{name}.safetensors")
    return tmp_path


def test_offline_with_nothing_downloaded_falls_back_to_the_bundled_model_for_the_content(tmp_path):
    expected = {"scene": "mdrn-compact-scenes", "face": "mdrn-compact-utkface"}
    for kind, bundled in expected.items():
        name, reason = ic.choose_model(kind, models_dirs=[tmp_path], offline=True)
        assert name == bundled and f"bundled {kind} network" in reason and "\n" not in reason
        assert catalog_module.get_weights_entry(name).subject == kind and ic.load_model(name).family == "mdrn"


def test_online_the_strongest_is_chosen_and_its_download_announced(local_hub, tmp_path):
    name, reason = ic.choose_model("scene", models_dirs=[tmp_path], offline=False)
    entry = catalog_module.get_weights_entry(name)
    assert name == "lama-big" and "downloading" in reason and entry.license in reason


def test_a_ready_model_wins_over_a_download(tmp_path):
    folder = _models_folder(tmp_path, "migan-places2-512")
    assert ic.choose_model("scene", models_dirs=[folder], offline=True)[0] == "migan-places2-512"
    name, reason = ic.choose_model("face", models_dirs=[folder], offline=False)
    assert name == "migan-places2-512" and "ready" in reason
    _models_folder(tmp_path, "lama-big")
    assert ic.choose_model("scene", models_dirs=[folder], offline=True)[0] == "lama-big"


def test_the_hf_cache_counts_as_ready(local_hub, monkeypatch, tmp_path):
    data, _ = published_file("lama-big")
    serve(local_hub, monkeypatch, "lama-big", data)
    ic.load_model("lama-big")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    name, reason = ic.choose_model("scene")
    assert name == "lama-big" and "ready" in reason


def test_load_model_auto_runs_the_choice(tmp_path, monkeypatch):
    folder = _models_folder(tmp_path, "migan-places2-512")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert ic.load_model("auto", models_dirs=[folder]).family == "migan"
    assert ic.load_model("auto-face", models_dirs=[tmp_path / "empty"]).name.startswith("mdrn")
    assert ic.load_model("mdrn-compact-utkface", models_dirs=[folder]).family == "mdrn"  # an explicit pick stays


def test_an_unreachable_hub_counts_as_offline(tmp_path):
    # HF_ENDPOINT points at a closed port (conftest): not offline by the environment, but the Hub does not answer
    name, reason = ic.choose_model("scene", models_dirs=[tmp_path], offline=False)
    assert name == "mdrn-compact-scenes" and "did not answer" in reason


def test_a_failed_download_falls_back_and_says_why(local_hub):
    local_hub.failures["big-lama.safetensors"] = 404  # the Hub answers, but has no such file
    model, reason = ic.load_auto("scene", offline=False)
    assert model.family == "auto" and model.labels[0] == "mdrn-compact-scenes"  # and the face network for faces
    assert "lama-big could not be loaded" in reason and "mdrn-compact-scenes runs instead" in reason


def test_unknown_kind_is_refused():
    with pytest.raises(ic.InputError, match="kind must be one of"):
        ic.choose_model("landscape")


def test_auto_names_are_not_catalog_or_preset_names():
    assert not set(ic.AUTO_NAMES) & set(ic.list_models())
