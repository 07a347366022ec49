"""Soak, short: library calls with every strategy and node executions; RSS and open fds must not grow past a bound
after warm-up. ``SOAK_CALLS`` sets the calls per phase (default 30; ``benchmarks/soak.py`` is the long run)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CALLS = int(os.environ.get("SOAK_CALLS", "30"))
WARMUP = 10
#: After warm-up: RSS may rise this much (allocator pools, not per-call state), open fds not at all (+2 for noise).
RSS_BOUND_MB = 64
FD_BOUND = 2


@pytest.mark.soak
def test_no_growth_after_warmup():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "benchmarks" / "soak.py")
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    samples = soak.soak(CALLS, CALLS, WARMUP, every=5, report=lambda line: None)
    warm = next(s for s in samples if s[0] == "library" and s[1] >= WARMUP)
    after = samples[samples.index(warm):]
    assert len(after) >= 4
    assert max(s[2] for s in after) - warm[2] <= RSS_BOUND_MB, samples
    assert max(s[3] for s in after) <= warm[3] + FD_BOUND, samples
