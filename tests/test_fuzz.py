"""Hostile input: crafted files for the decoders and weights loader, hostile model names and option values, and
property-based (Hypothesis) inputs for the pipeline. Each must give a result or an ``InpaintError``; nothing else.

Hypothesis profiles (``INPAINT_FUZZ_PROFILE``): ``ci`` (default, a few hundred cases in all) and ``long`` (thousands;
run it with ``--timeout 0``, see docs/reliability.md).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import numpy as np
import pytest
import torch

import inpaint_core as ic
from inpaint_core.image_ops import MAX_PIXELS, open_image

from .fuzz_inputs import broken_pictures, broken_weights, png_declaring, valid_pictures

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=1500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("INPAINT_FUZZ_PROFILE", "ci"))

TELEA = ic.load_model("opencv.telea")
MASK = np.zeros((24, 32), np.uint8)
MASK[6:14, 8:20] = 255


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------------- pictures


def test_crafted_pictures_decode_or_raise_input_error(tmp_path):
    """~200 truncated, corrupted, garbage and bomb files: each decodes to something inpaintable or is an InputError;
    the bombs are refused from their header, without decoding (peak memory stays put)."""
    files = broken_pictures() + valid_pictures()
    before = _rss_mb()
    outcomes = {"inpainted": 0, "refused": 0}
    for name, data in files:
        path = tmp_path / name
        path.write_bytes(data)
        try:
            picture = open_image(path)
            result = ic.inpaint(TELEA, picture, _hole(picture.size))
        except ic.InputError as error:
            assert str(path.name) in str(error) or "image" in str(error), error
            outcomes["refused"] += 1
            if name.startswith("bomb"):
                assert "declares" in str(error) or "exceeds" in str(error), error
            continue
        assert result.shape[-2:] == picture.size[::-1] and torch.isfinite(result).all()
        outcomes["inpainted"] += 1
    assert len(files) >= 200 and outcomes["refused"] > 100 and outcomes["inpainted"] >= 10, outcomes
    assert _rss_mb() - before < 200, "a crafted picture was decoded in full"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({name for name, _ in files}), "nothing else written"


def _hole(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    hole = np.zeros((height, width), np.float32)
    hole[height // 4 : max(height // 4 + 1, height // 2), width // 4 : max(width // 4 + 1, width // 2)] = 1
    return hole


def test_bomb_is_refused_before_decoding_and_the_limit_is_adjustable(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(9000, 9000))
    with pytest.raises(ic.InputError, match=f"9000x9000 pixels, more than the {MAX_PIXELS}"):
        open_image(path)
    with pytest.raises(ic.InputError, match="more than the 100 this reads"):
        open_image(tmp_path / "bomb.png", max_pixels=100)


def test_lazy_pil_image_of_a_truncated_file_is_an_input_error(tmp_path):
    """A PIL image opened lazily by the caller (Pillow decodes on first access) fails as an InputError."""
    from PIL import Image

    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((40, 40, 3), np.uint8) + 100).save(good)
    path = tmp_path / "cut.png"
    path.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(ic.InputError, match="truncated"):
        ic.inpaint(TELEA, Image.open(path), _hole((40, 40)))


def test_cli_reports_a_broken_picture_in_one_line(tmp_path, capsys):
    from inpaint_core import cli

    (tmp_path / "bad.png").write_bytes(b"\x89PNG garbage")
    (tmp_path / "bomb.png").write_bytes(png_declaring(100_000, 100_000))
    for name in ("bad.png", "bomb.png"):
        assert cli.main(["inpaint", str(tmp_path / name), str(tmp_path / name), "-o", str(tmp_path / "o.png"),
                         "--model", "opencv.telea"]) == 2
        assert "error: cannot read image" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


# ---------------------------------------------------------------------------------------------------- weights


@pytest.fixture(scope="module")
def valid_weights(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "mdrn.safetensors"
    return ic.save_model(ic.build_model("mdrn.tiny"), path).read_bytes()


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_crafted_weights_files_are_weights_errors(valid_weights, tmp_path):
    """~100 hostile safetensors files: every one that is not the model bit for bit in its header is a WeightsError
    (or UnknownModelError for an unknown family); none allocates the model a lying config describes."""
    files = broken_weights(valid_weights)
    torch.save({"weight": torch.zeros(2)}, tmp_path / "pickle.safetensors")  # written, never loaded
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(tmp_path / "torchscript.safetensors"))
    files += [(name, (tmp_path / f"{name}.safetensors").read_bytes()) for name in ("pickle", "torchscript")]
    before = _rss_mb()
    loaded = refused = 0
    for name, data in files:
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        try:
            model = ic.load_model(path)
        except (ic.WeightsError, ic.UnknownModelError) as error:
            refused += 1
            if "pickle" in name or "torchscript" in name:
                assert "not safetensors" in str(error)
            continue
        assert name.startswith("header_flip") or name in {"dtype_F64", "dtype_F16"} or name == "other_family", name
        assert isinstance(model, ic.InpaintModel)
        loaded += 1
    assert len(files) >= 100 and refused >= 60, (len(files), refused, loaded)
    assert _rss_mb() - before < 300, "a lying header made the loader allocate"


def test_headers_whose_length_starts_like_a_pickle_still_load(tmp_path):
    """Regression: a header of 384 bytes starts with 0x80, a pickle's first byte; the length decides, not the byte."""
    model = ic.build_model("opencv.telea")
    for pad in range(0, 600, 7):
        path = ic.save_model(model, tmp_path / f"{pad}.safetensors", metadata={"pad": "x" * pad})
        if path.read_bytes()[:1] == b"\x80":
            assert ic.load_model(path).name == "opencv.telea"
            return
    pytest.fail("no padding gave a header length whose first byte is 0x80")


def test_config_bomb_is_refused_from_the_header(valid_weights, tmp_path):
    path = tmp_path / "bomb.safetensors"
    path.write_bytes(dict(broken_weights(valid_weights))["config_bomb"])
    with pytest.raises(ic.WeightsError, match="shape mismatch"):
        ic.load_model(path)


def test_weights_with_integer_or_nan_tensors_are_refused(tmp_path):
    from safetensors.torch import save_file

    model = ic.build_model("mdrn.tiny")
    metadata = ic.weights.read_metadata(ic.save_model(model, tmp_path / "ok.safetensors"))
    state = model.state_dict()
    save_file({k: v.to(torch.int32) for k, v in state.items()}, str(tmp_path / "int.safetensors"), metadata=metadata)
    save_file({k: v * float("nan") for k, v in state.items()}, str(tmp_path / "nan.safetensors"), metadata=metadata)
    with pytest.raises(ic.WeightsError, match="integer where floating point"):
        ic.load_model(tmp_path / "int.safetensors")
    with pytest.raises(ic.WeightsError, match="NaN or infinite"):
        ic.load_model(tmp_path / "nan.safetensors")
    save_file({k: v.half() for k, v in state.items()}, str(tmp_path / "half.safetensors"), metadata=metadata)
    assert ic.load_model(tmp_path / "half.safetensors").dtype == torch.float32  # a documented cast, not an error


HOSTILE_NAMES = [
    "..", "../x", "../../etc/passwd", "/etc/passwd", "/dev/zero", "/proc/self/mem", "a\0b", "a/b\0c",
    "x.safetensors\0", "owner/repo\0", "owner/repo@main\0", "owner/repo\n", "owner/repo@../../x", "owner/../repo",
    "https://huggingface.co/owner/repo", "http://127.0.0.1:9/x.safetensors", "file:///etc/passwd", "\\\\server\\share",
    "C:\\x\\y.safetensors", " ", "", "a" * 5000, "owner/" + "a" * 300, "o" * 97 + "/repo", "owner/repo@" + "r" * 300,
    "~/x.safetensors", "$HOME/x", "opencv.telea/../../x", "opencv..telea", "mdrn.", ".mdrn",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_model_names_are_clear_errors_and_write_nothing(name, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    cache = Path(os.environ["HF_HOME"])
    before = sorted(cache.rglob("*")) if cache.exists() else []
    with pytest.raises((ic.UnknownModelError, ic.WeightsError)):
        ic.load_model(name)
    assert not list(tmp_path.iterdir())
    assert (sorted(cache.rglob("*")) if cache.exists() else []) == before


# ---------------------------------------------------------------------------------------------------- pipeline

VALID_DTYPES = [np.uint8, np.uint16, np.float32, np.float64, np.bool_]
#: One field of a case replaced by one of these makes it hostile (about a quarter of the cases are).
HOSTILE = {
    "image": [np.full((20, 20, 3), np.nan, np.float32), np.full((20, 20, 3), 255.0, np.float32),
              np.zeros((5, 40, 3), np.uint8), np.zeros((20, 20, 5), np.uint8), np.zeros((20, 20, 3), np.complex64),
              np.array([["a"] * 20] * 20, dtype=object), np.zeros((0, 20, 3), np.float32),
              np.full((20, 20, 3), -3, np.int8), np.full((20, 20, 3), 70000, np.uint32)],
    "hole": [np.full((20, 20), np.nan, np.float32), np.ones((30, 10), np.float32), np.ones((20, 20, 2), np.uint8),
             np.full((20, 20), -1.0), np.zeros((20, 20), np.complex64), np.ones((2, 3, 20, 20), np.float32)],
    "strategy": ["nope", "", "CROP"],
    "margin": [-1, -(10**9), 10**9, float("nan")],
    "feather_pixels": [-1, float("nan"), float("inf"), 10**9],
    "threshold": [0.0, 1.5, -1, float("nan")],
    "working_size": [-8, 1, 7, 10**6],
}


def _arrays(shape, dtypes=VALID_DTYPES):
    return st.sampled_from(dtypes).flatmap(lambda dtype: hnp.arrays(dtype, shape, elements=_elements(dtype)))


def _elements(dtype):
    kind = np.dtype(dtype).kind
    return st.floats(0, 1, width=16) if kind == "f" else st.sampled_from([0, 0, 1, 255]) if kind in "iu" else None


@st.composite
def pipeline_case(draw):
    """A valid input and options, with (a quarter of the time) one field replaced by a hostile value."""
    height, width = draw(st.integers(8, 48)), draw(st.integers(8, 48))
    channels = draw(st.sampled_from([None, 1, 3, 3, 4]))
    shape = (height, width) if channels is None else (height, width, channels)
    mask_shape = draw(st.sampled_from([(height, width), (height, width), (height * 2, width * 2), (height, width, 3)]))
    case = {
        "image": draw(_arrays(shape)),
        "hole": draw(_arrays(mask_shape, [np.uint8, np.bool_, np.float32, np.float16, np.int64, np.uint32])),
        "strategy": draw(st.sampled_from(ic.STRATEGIES)),
        "margin": draw(st.integers(0, 80)),
        "feather_pixels": draw(st.sampled_from([0, 0, 0, 0.5, 3, 12])),
        "threshold": draw(st.sampled_from([0.1, 0.5, 1.0])),
        "working_size": draw(st.sampled_from([None, 0, 8, 32, 64])),
    }
    if draw(st.integers(0, 3)) == 0:
        field = draw(st.sampled_from(sorted(HOSTILE)))
        case[field] = draw(st.sampled_from(HOSTILE[field]))
        event(f"hostile {field}")
    return case


def _check_pipeline(model: ic.InpaintModel, case: dict) -> None:
    options = {k: case[k] for k in ("margin", "feather_pixels", "threshold", "working_size")}
    try:
        result = ic.inpaint_detailed(model, case["image"], case["hole"], case["strategy"], **options)
    except ic.InputError as error:
        event(f"InputError: {' '.join(str(error).split()[:3])}")
        return
    event("inpainted")
    image, soft = ic.image_ops.prepare_inputs(case["image"], case["hole"])
    out = result.image
    assert out.shape == image.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    if case["feather_pixels"] == 0:  # pixels outside the hole come back bit for bit
        keep = ~(soft >= case["threshold"]).expand_as(image)
        assert torch.equal(out[keep], image[keep])


@given(pipeline_case())
def test_pipeline_with_telea_gives_a_result_or_an_input_error(case):
    _check_pipeline(TELEA, case)


TINY = ic.build_model("mdrn.tiny").eval()


@given(pipeline_case())
def test_pipeline_with_a_tiny_network_gives_a_result_or_an_input_error(case):
    _check_pipeline(TINY, case)


@given(st.sampled_from([torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int16, torch.uint8,
                        torch.bool, torch.uint32, torch.uint64, torch.complex64]),
       st.lists(st.integers(1, 12), min_size=1, max_size=5), st.booleans())
def test_tensor_masks_of_any_dtype_and_layout(dtype, shape, nan):
    hole = torch.zeros(shape).to(dtype) if dtype.is_complex else (torch.rand(shape) > 0.5).to(dtype)
    if nan and dtype.is_floating_point:
        hole.view(-1)[0] = float("nan")
    image = torch.rand(1, 3, 24, 32)
    try:
        out = ic.inpaint(TELEA, image, hole)
    except ic.InputError:
        return
    batch = ic.image_ops.prepare_inputs(image, hole)[0]  # one image is repeated for each mask of a batch
    assert out.shape == batch.shape and torch.isfinite(out).all()
