"""The test command works whatever the clone's folder is called.

The root ``__init__.py`` is ComfyUI's entry point, so pytest sees the repository as a package: it imports that file
as the package ``p`` in a folder named ``p``, and as a bare module with no parent package in a folder whose name is
not a Python identifier, such as ``comfyui-inpaint-gan``, the name ``git clone`` gives. Each case runs pytest, with
the project's own pytest settings, on a copy of the entry point in a folder of that name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("folder", ["comfyui-inpaint-gan", "p"])
def test_pytest_collects_in_a_clone_named(folder, tmp_path):
    clone = tmp_path / folder
    (clone / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "__init__.py", clone / "__init__.py")
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    (clone / "nodes").symlink_to(ROOT / "nodes", target_is_directory=True)
    (clone / "tests" / "__init__.py").write_text("")
    (clone / "tests" / "test_probe.py").write_text("def test_probe():\n    assert True\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
