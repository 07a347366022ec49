"""pSp family: StyleGAN2 ops, the released key layout, the converter, and the tiny preset end to end."""

from __future__ import annotations

import argparse
import math

import pytest
import torch
import torch.nn.functional as F

import inpaint_core as ic
from inpaint_core.catalog import get_weights_entry
from inpaint_core.layers.stylegan2 import make_kernel, upfirdn2d
from inpaint_core.models.psp import PRESETS

torch.set_num_threads(1)


def _tiny(seed: int = 0):
    torch.manual_seed(seed)
    model = ic.build_model("psp.tiny").eval()
    with torch.no_grad():  # non-zero noise strengths, biases and BN statistics, so every term matters
        for name, tensor in model.state_dict().items():
            if name.endswith(("noise.weight", "activate.bias", "running_mean")) or name.endswith("latent_avg"):
                tensor.normal_(0, 0.1)
    return model


def _released(model) -> dict:
    """``model`` in the layout of a released pSp file."""
    state = {k: v.clone() for k, v in model.state_dict().items() if k != "latent_avg"}
    opts = {"encoder_type": "GradualStyleEncoder", "input_nc": 3, "label_nc": 0, "output_size": 128,
            "start_from_latent_avg": True, "learn_in_w": False, "lpips_lambda": 0.8, "exp_dir": "x"}
    return {"state_dict": state, "opts": opts, "latent_avg": model.latent_avg.clone()}


TINY_OVERRIDES = {k: getattr(PRESETS["tiny"], k) for k in (
    "image_size", "encoder_units", "encoder_widths", "encoder_stem", "se_reduction", "style_dim", "n_mlp",
    "generator_channels")}


def test_ffhq_layout_and_parameter_counts():
    with torch.device("meta"):
        model = ic.build_model("psp.ffhq")
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert count(model.encoder) == 267_136_704
    assert count(model.decoder) == 30_370_060
    assert count(model.decoder.style) == 2_101_248
    state = model.state_dict()
    assert len(state) - 1 == 792  # the released state_dict; latent_avg is kept outside it there
    shapes = {
        "encoder.input_layer.0.weight": (64, 3, 3, 3),
        "encoder.body.0.shortcut_layer.0.weight": None,
        "encoder.body.3.shortcut_layer.0.weight": (128, 64, 1, 1),
        "encoder.body.23.res_layer.5.fc1.weight": (32, 512, 1, 1),
        "encoder.styles.17.convs.10.weight": (512, 512, 3, 3),
        "encoder.styles.0.linear.weight": (512, 512),
        "encoder.latlayer1.weight": (512, 256, 1, 1),
        "decoder.style.8.weight": (512, 512),
        "decoder.input.input": (1, 512, 4, 4),
        "decoder.convs.0.conv.blur.kernel": (4, 4),
        "decoder.convs.15.conv.weight": (1, 32, 32, 3, 3),
        "decoder.to_rgbs.7.upsample.kernel": (4, 4),
        "decoder.to_rgb1.bias": (1, 3, 1, 1),
        "decoder.noises.noise_0": (1, 1, 4, 4),
        "decoder.noises.noise_16": (1, 1, 1024, 1024),
        "latent_avg": (18, 512),
    }
    for key, shape in shapes.items():
        assert (tuple(state[key].shape) if key in state else None) == shape, key
    assert "encoder.styles.0.convs.8.weight" not in state and "encoder.styles.3.convs.8.weight" in state


def test_upfirdn2d_against_transposed_conv():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    kernel = make_kernel((1, 3, 3, 1), 4)
    ours = upfirdn2d(x, kernel, up=2, pad=(2, 1))
    # zero insertion + flipped-kernel correlation == transposed conv with the kernel itself, cropped
    ref = F.conv_transpose2d(x.reshape(6, 1, 8, 8), kernel[None, None], stride=2).reshape(2, 3, 18, 18)
    ref = ref[:, :, 1:-1, 1:-1]
    assert ours.shape == (2, 3, 16, 16)
    assert torch.allclose(ours, ref, atol=1e-6)
    asymmetric = torch.arange(16.0).reshape(4, 4)  # the flip matters for a non-symmetric kernel
    one = torch.zeros(1, 1, 5, 5)
    one[0, 0, 2, 2] = 1
    assert torch.equal(upfirdn2d(one, asymmetric, pad=(2, 1))[0, 0, 1:5, 1:5], asymmetric)


def test_tiny_forward_backward_save_reload(tmp_path):
    model = _tiny()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    image, latents = model(x)
    assert image.shape == (2, 3, 64, 64) and latents.shape == (2, 12, 32)
    model.train()
    image_t, _ = model(x, randomize_noise=True, generator=torch.Generator().manual_seed(1))
    image_t.square().mean().backward()
    assert model.encoder.styles[0].linear.weight.grad is not None
    assert model.decoder.convs[0].conv.weight.grad is not None
    model.eval()
    path = ic.save_model(model, tmp_path / "psp.safetensors")
    loaded = ic.load_model(path)
    with torch.no_grad():
        assert torch.equal(loaded(x)[0], model(x)[0])
    assert loaded.working_size == 64 and loaded.fixed_size and loaded.aligned_faces


def test_output_is_exact_mean_pool_of_generator_image():
    model = _tiny()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        image, latents = model(x)
        full = model.decoder(latents)
    assert full.shape[-1] == 128
    assert torch.allclose(image, F.avg_pool2d(full, 2), atol=1e-6)


def test_latent_avg_added_to_codes():
    model = _tiny()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        _, latents = model(x)
        assert torch.allclose(latents, model.encoder(x) + model.latent_avg, atol=1e-6)


def test_style_index_mapping():
    model = _tiny()
    decoder = model.decoder
    expected = {decoder.conv1.conv: 0, decoder.to_rgb1.conv: 1}
    for level in range(len(decoder.to_rgbs)):
        expected[decoder.convs[2 * level].conv] = 2 * level + 1
        expected[decoder.convs[2 * level + 1].conv] = 2 * level + 2
        expected[decoder.to_rgbs[level].conv] = 2 * level + 3
    seen = {}
    hooks = [conv.modulation.register_forward_hook(lambda m, inp, out, conv=conv: seen.__setitem__(conv, inp[0]))
             for conv in expected]
    latent = torch.randn(1, decoder.n_latent, 32)
    with torch.no_grad():
        decoder(latent)
    for hook in hooks:
        hook.remove()
    assert max(expected.values()) == decoder.n_latent - 1
    for conv, index in expected.items():
        assert torch.equal(seen[conv], latent[:, index])


def test_noise_buffers_are_used():
    model = _tiny()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        first, second = model(x)[0], model(x)[0]
        assert torch.equal(first, second)  # randomize_noise=False: the stored buffers, deterministic
        seeded = [model(x, randomize_noise=True, generator=torch.Generator().manual_seed(3))[0] for _ in range(2)]
        assert torch.equal(*seeded) and not torch.allclose(seeded[0], first)
        model.decoder.noises.noise_5.normal_()
        assert not torch.allclose(model(x)[0], first)
    num_layers = model.decoder.num_layers
    sizes = [getattr(model.decoder.noises, f"noise_{i}").shape[-1] for i in range(num_layers)]
    assert sizes == [2 ** ((i + 5) // 2) for i in range(num_layers)]


def test_converter_on_released_layout(tmp_path):
    model = _tiny()
    src = tmp_path / "psp_tiny.pt"
    torch.save(_released(model), src)
    dst = ic.convert_checkpoint("psp", src, tmp_path / "psp_tiny.safetensors", **TINY_OVERRIDES)
    loaded = ic.load_model(dst)
    assert loaded.config.generator_size == 128 and loaded.config.generator_channels == (32, 32, 32, 16, 16, 8)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        for ours, ref in zip(loaded(x), model(x)):
            assert torch.equal(ours, ref)


def test_converter_rejects_unsafe_and_foreign_files(tmp_path):
    model = _tiny()
    release = _released(model)
    unsafe = dict(release, opts=argparse.Namespace(**release["opts"]))  # needs unpickling of arbitrary classes
    torch.save(unsafe, tmp_path / "unsafe.pt")
    with pytest.raises(ic.WeightsError, match="weights_only"):
        ic.convert_checkpoint("psp", tmp_path / "unsafe.pt", tmp_path / "out.safetensors", **TINY_OVERRIDES)
    torch.save({"g_ema": {}}, tmp_path / "stylegan.pt")
    with pytest.raises(ic.WeightsError, match="not a pSp checkpoint"):
        ic.convert_checkpoint("psp", tmp_path / "stylegan.pt", tmp_path / "out.safetensors")
    missing = dict(release, state_dict={k: v for k, v in release["state_dict"].items() if "noises" not in k})
    torch.save(missing, tmp_path / "missing.pt")
    with pytest.raises(ic.WeightsError, match="missing"):
        ic.convert_checkpoint("psp", tmp_path / "missing.pt", tmp_path / "out.safetensors", **TINY_OVERRIDES)
    torch.save(dict(release, opts=dict(release["opts"], encoder_type="BackboneEncoderUsingLastLayerIntoW")),
               tmp_path / "w.pt")
    with pytest.raises(ic.WeightsError, match="encoder_type"):
        ic.convert_checkpoint("psp", tmp_path / "w.pt", tmp_path / "out.safetensors", **TINY_OVERRIDES)


def test_predict_masks_the_face():
    model = _tiny()
    image = torch.rand(1, 3, 64, 64)
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    x = model.masked_input(image, hole)  # the hole Telea-filled from the known pixels, which are kept
    assert torch.allclose(x * (1 - hole), (image * 2 - 1) * (1 - hole))
    telea = ic.build_model("opencv.telea").predict(image * (1 - hole), hole)
    assert (x - (telea * 2 - 1)).abs()[hole.expand_as(x) > 0].max() < 1e-5
    grey = ic.build_model("psp.tiny", prefill="zeros").masked_input(image, hole)
    assert torch.all(grey[..., 20, 20] == model.config.hole_value)
    with torch.no_grad():
        out = model.predict(image, hole)
        assert out.shape == image.shape and out.min() >= 0 and out.max() <= 1
        assert not torch.equal(out, model.predict(image, torch.zeros_like(hole)))
    with pytest.raises(ic.InputError):
        model.predict(torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32))


def test_catalog_entry_is_pinned():
    entry = get_weights_entry("psp-ffhq-encode")
    assert entry.family == "psp" and entry.source_format == "psp" and "non-commercial" in entry.license
    assert entry.repo_id == "trysem/pixel2style2pixel" and entry.filename == "psp_ffhq_encode.pt"
    assert len(entry.revision) == 40 and len(entry.sha256) == 64
    assert math.log2(PRESETS["ffhq"].generator_size) == 10
