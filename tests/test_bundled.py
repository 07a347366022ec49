"""The weights that ship with the package: offline, pinned, small, documented, the default of the nodes and app."""

from __future__ import annotations

import pytest
import torch

import inpaint_core as ic
from inpaint_core import catalog as catalog_module
from inpaint_core import hub
from inpaint_core.catalog import UTKFACE_LICENSE

BUNDLED = sorted(name for name, entry in catalog_module.catalog().items() if entry.bundled)


def test_the_default_model_is_bundled():
    assert ic.DEFAULT_MODEL in BUNDLED


def test_bundled_weights_stay_under_30_mb_and_are_pinned_and_documented():
    entries = [ic.get_weights_entry(name) for name in BUNDLED]
    assert sum((catalog_module.BUNDLED_DIR / e.bundled).stat().st_size for e in entries) < 30e6
    for entry in entries:
        assert entry.sha256 == hub.file_sha256(catalog_module.BUNDLED_DIR / entry.bundled)
        card = entry.card.read_text()
        for needed in ("python -m training.train", "research use only", "**Data**", "## Evaluation", entry.sha256):
            assert needed in card, (entry.name, needed)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_inpaints_offline(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = ic.load_model(name)
    assert model.name == f"{ic.get_weights_entry(name).family}.{ic.get_weights_entry(name).preset}"
    assert next(model.parameters()).dtype == torch.float32  # stored in fp16, loaded as float32
    image = torch.rand(1, 3, 96, 80, generator=torch.Generator().manual_seed(0))
    hole = torch.zeros(1, 1, 96, 80)
    hole[..., 30:60, 20:50] = 1
    out = ic.inpaint(model, image, hole, "resize")
    keep = (hole == 0).expand_as(image)
    assert torch.equal(out[keep], image[keep]) and torch.isfinite(out).all()


def test_a_changed_bundled_file_is_refused(tmp_path, monkeypatch):
    entry = ic.get_weights_entry(ic.DEFAULT_MODEL)
    changed = tmp_path / entry.bundled
    changed.write_bytes((catalog_module.BUNDLED_DIR / entry.bundled).read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(hub, "BUNDLED_DIR", tmp_path)
    with pytest.raises(ic.WeightsError, match="sha256"):
        ic.load_model(ic.DEFAULT_MODEL)


def test_catalog_names_cannot_be_paths():
    for bad in ("../escape", "a/b", "Upper", "", "a..b"):
        with pytest.raises(ValueError, match="weights name"):
            catalog_module.validate_weights_name(bad)


def test_bundle_writes_fp16_weights_and_a_card(tmp_path):
    from training.bundle import bundle

    run = tmp_path / "run"
    model = ic.build_model("deepfill.tiny")
    ic.save_model(model, run / "final" / "model.safetensors")
    (run / "train_config.json").write_text(
        '{"batch_size": 4, "output_dir": "runs/x", "objective": {"gan_weight": 0},'
        ' "data": {"file_list": "/srv/data/utkface/train.txt", "root": "utkface/images", "size": 64,'
        ' "scale_min": 1, "scale_max": 2},'
        ' "mask": {"mix": "box=1"},'
        ' "optim": {"lr_g": 0.0003}, "schedule": {"warmup_steps": 10, "lr_schedule": "cosine"},'
        ' "ema": {"decay": 0.998}}'
    )
    (run / "log.jsonl").write_text('{"step": 100, "images_per_s": 2.0}\n')
    path = bundle(run, "tiny-test", "python -m training.train --preset x", "a test machine", {"t": "| a |"},
                  folder=tmp_path / "weights", started_from="the first stage's weights")
    reloaded = ic.load_model(path)
    assert torch.equal(reloaded.generator.coarse.conv1.conv.weight,
                       model.generator.coarse.conv1.conv.weight.half().float())
    card = path.with_suffix(".md").read_text()
    assert "100 steps of batch 4" in card and "0.06 h on a test machine" in card and "| a |" in card
    assert hub.file_sha256(path) in card
    assert "`.../utkface/train.txt`" in card and "/srv/" not in card  # no folders of the training machine
    assert "a random 1-2x zoom, random 64x64 crops" in card and "Started from**: the first stage's weights" in card
    assert card.startswith("# `tiny-test`: deepfill.tiny trained on UTKFace faces") and UTKFACE_LICENSE in card
    config = (run / "train_config.json").read_text()
    (run / "train_config.json").write_text(config.replace("utkface/images", "my_photos"))
    with pytest.raises(ValueError, match="known data terms"):  # a bundled card must state the data's licence
        bundle(run, "tiny-test", "python -m training.train", "a test machine", {}, folder=tmp_path / "weights")


def test_bundled_models_stay_compact():
    """A guard against a preset change that makes the bundled models much heavier (speed: benchmarks/)."""
    for name in BUNDLED:
        model = ic.load_model(name)
        assert sum(p.numel() for p in model.parameters()) < 5e6, name
