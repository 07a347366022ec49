"""The one option surface: every option has one name, one default and one validation, in the library and its hosts."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
import torch

import inpaint_core as ic
from inpaint_core import cli
from inpaint_core.cli import flag
from inpaint_core.options import FaceOptions, InpaintOptions


@pytest.mark.parametrize("options_cls", [InpaintOptions, FaceOptions])
def test_every_option_has_a_spec_and_its_default_is_valid(options_cls):
    specs = options_cls.specs()
    assert list(specs) == [item.name for item in dataclasses.fields(options_cls)]
    for name, (item, spec) in specs.items():
        assert spec.label and spec.help, name
        assert str(item.type) in {"bool", "int", "float", "str"}, name
        if str(item.type) in {"int", "float"}:
            assert spec.minimum <= item.default <= spec.maximum and spec.step, name
    options_cls()  # the defaults pass the validation


@pytest.mark.parametrize(("changes", "message"), [
    ({"strategy": "tile"}, "unknown strategy 'tile'"),
    ({"threshold": 0.0}, r"threshold must be in \[0.01, 1\]"),
    ({"margin": -8}, r"margin must be in \[0, 1024\]"),
    ({"margin": 1.5}, "margin must be int"),
    ({"color_match": 1}, "color_match must be bool"),
    ({"seed": -1}, "seed must be in"),
    ({"working_size": 5000}, "working_size must be in"),
])
def test_bad_values_are_input_errors(changes, message):
    with pytest.raises(ic.InputError, match=message):
        InpaintOptions(**changes)


def test_ui_numbers_become_the_option_types():
    options = InpaintOptions(margin=32.0, feather_pixels=4, seed=7.0)
    assert (type(options.margin), type(options.feather_pixels), type(options.seed)) == (int, float, int)


def test_resolve_takes_keywords_over_options_and_names_unknown_ones():
    base = InpaintOptions(margin=16)
    assert InpaintOptions.resolve(base, margin=None, seed=3) == InpaintOptions(margin=16, seed=3)
    assert InpaintOptions.resolve(None) == InpaintOptions()
    with pytest.raises(ic.InputError, match="unknown option.*context_margin.*has strategy, margin"):
        InpaintOptions.resolve(None, context_margin=8)
    assert InpaintOptions(seed=5).as_kwargs()["seed"] == 5


def test_the_seed_is_the_generator_of_a_run(image, hole):
    first, second = InpaintOptions(seed=11).generator(), InpaintOptions(seed=11).generator()
    assert torch.equal(torch.rand(4, generator=first), torch.rand(4, generator=second))
    telea = ic.load_model("opencv.telea")
    by_options = ic.inpaint(telea, image, hole, options=InpaintOptions(strategy="resize", feather_pixels=3))
    assert torch.equal(by_options, ic.inpaint(telea, image, hole, "resize", feather_pixels=3))


def test_face_options_are_separate_from_the_pipeline_options(image, hole):
    telea = ic.load_model("opencv.telea")
    aligned = ic.inpaint_faces(telea, image, hole, assume_aligned=True, feather_pixels=2)
    again = ic.inpaint_faces(telea, image, hole, face_options=FaceOptions(assume_aligned=True),
                             options=InpaintOptions(feather_pixels=2))
    assert torch.equal(aligned.image, again.image)
    with pytest.raises(ic.InputError, match="min_face must be in"):
        ic.inpaint_faces(telea, image, hole, min_face=2)


# ------------------------------------------------------------------------------ every option reaches every host

ROOT = Path(__file__).resolve().parents[1]


def documented_rows(title: str) -> dict[str, list[str]]:
    """The rows of the table under ``## <title>`` in docs/options.md, by library name, cells without backticks."""
    section = (ROOT / "docs" / "options.md").read_text().split(f"## {title}")[1].split("\n## ")[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| `")]
    return {cells[0].strip(" `"): [cell.strip(" `") for cell in cells] for cells in rows}


@pytest.mark.parametrize(("title", "options_cls"), [("Pipeline", InpaintOptions), ("Faces", FaceOptions)])
def test_the_docs_table_lists_every_option_with_its_names_and_default(title, options_cls):
    rows = documented_rows(title)
    assert list(rows) == list(options_cls.specs())
    for name, (item, spec) in options_cls.specs().items():
        library, widget, control, api, cli_flag, default = rows[name][:6]
        shown = "(not in the app)" if name in getattr(options_cls, "MODEL_WIDE", ()) else spec.label
        assert (widget, control, cli_flag, default) == (name, shown, flag(name), str(item.default)), name
        assert api in (name, "(editor only)", "(not in the app)"), name


def test_the_command_line_has_a_flag_for_every_option():
    commands = next(action for action in cli._parser()._actions
                    if isinstance(action, argparse._SubParsersAction)).choices
    expected = {"inpaint": [(InpaintOptions, list(InpaintOptions.specs()))],
                "faces": [(FaceOptions, list(FaceOptions.specs())), (InpaintOptions, list(cli.FACE_PIPELINE_OPTIONS))]}
    for command, groups in expected.items():
        actions = {action.dest: action for action in commands[command]._actions}
        for options_cls, names in groups:
            for name in names:
                item, spec = options_cls.specs()[name]
                action = actions[name]
                assert flag(name) in action.option_strings and action.default == item.default, (command, name)
                assert spec.help in action.help, (command, name)
    assert "strategy" not in {action.dest for action in commands["faces"]._actions}
