"""The app under load: 16 concurrent ``gradio_client`` callers on a real server, mixing models, strategies and bad
inputs. Every call is answered (a result or a readable error), no result is another caller's, and the model cache
never holds more than its size. ``LOAD_REQUESTS`` (per caller, default 3) makes the run longer.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from .test_app import box_mask, free_port, load_app, read, save, smooth_image

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

CALLERS = 16
REQUESTS = int(os.environ.get("LOAD_REQUESTS", "3"))
MODELS = ["opencv.telea", "opencv.ns", "mdrn-compact-utkface", "deepfill-compact-utkface", "ctsdg-compact-utkface"]
#: (what is wrong, the model and mask to send, a phrase the error must contain)
BAD = [("unknown model", "no_such.model", "box", "unknown model"),
       ("preset without weights", "mdrn.tiny", "box", "without trained weights"),
       ("full mask", "opencv.telea", "full", "covers the whole image"),
       ("mask of another shape", "opencv.telea", "other", "give a mask of the image's size")]


@pytest.fixture(scope="module")
def url():
    module = load_app()
    _, address, _ = module.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                                       quiet=True, **module.LAUNCH_OPTIONS)
    yield address
    module.demo.close()


def test_concurrent_callers_mixing_models_and_bad_inputs(url, tmp_path):
    module = load_app()
    stop, cache_sizes = threading.Event(), []

    def watch_cache():
        while not stop.is_set():
            cache_sizes.append((len(module.MODELS._models), len(module.MODELS._loading)))
            time.sleep(0.01)

    def caller(index: int) -> list[tuple[str, float, str]]:
        client, outcomes = Client(url, verbose=False), []
        rng = np.random.default_rng(index)
        for step in range(REQUESTS):
            height, width = int(rng.integers(48, 112)), int(rng.integers(48, 112))
            image = smooth_image(height, width, 1000 * index + step)  # each caller's own picture
            top, left = int(rng.integers(4, height // 2)), int(rng.integers(4, width // 2))
            mask = box_mask(height, width, (top, left, top + height // 4, left + width // 4))
            strategy = ("crop", "resize", "original")[(index + step) % 3]
            bad = BAD[(index // 4) % len(BAD)] if (index + step) % 4 == 3 else None
            model = bad[1] if bad else MODELS[(index + step) % len(MODELS)]
            if bad and bad[2] == "full":
                mask = np.full_like(mask, 255)
            elif bad and bad[2] == "other":
                mask = box_mask(height * 2, height * 2 + 31, (1, 1, 9, 9))
            paths = (save(tmp_path, f"i{index}_{step}.png", image), save(tmp_path, f"m{index}_{step}.png", mask))
            start = time.perf_counter()
            try:
                out = read(client.predict(handle_file(paths[0]), handle_file(paths[1]), model, strategy,
                                          api_name="/inpaint"))
            except AppError as error:
                text = str(error)
                kind = next((b[0] for b in BAD if b[3] in text), f"unexpected: {text[:200]}")
                outcomes.append((kind if bad else f"unexpected for {model}: {text[:200]}", 0.0, "error"))
                continue
            seconds = time.perf_counter() - start
            keep = mask == 0
            if bad:
                outcomes.append((f"no error for {bad[0]}", seconds, "result"))
            elif out.shape != image.shape or not np.array_equal(out[keep], image[keep]):
                outcomes.append(("mismatch", seconds, "result"))
            else:
                outcomes.append(("ok", seconds, "result"))
        return outcomes

    watcher = threading.Thread(target=watch_cache, daemon=True)
    watcher.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(CALLERS) as pool:
        results = [item for outcome in pool.map(caller, range(CALLERS)) for item in outcome]
    wall = time.perf_counter() - started
    stop.set()
    watcher.join()
    kinds = Counter(kind for kind, _, _ in results)
    latencies = sorted(seconds for kind, seconds, _ in results if kind == "ok")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ncallers {CALLERS}, requests {len(results)}, answered {len(results)}, outcomes {dict(kinds)}, "  # noqa: T201  (the figures, shown with -s)
          f"p50 {np.percentile(latencies, 50):.2f} s, p95 {np.percentile(latencies, 95):.2f} s, wall {wall:.1f} s, "
          f"peak RSS {peak_rss:.0f} MB, largest cache {max(c for c, _ in cache_sizes)}")
    assert len(results) == CALLERS * REQUESTS, "every request is answered"
    assert set(kinds) <= {"ok", *(b[0] for b in BAD)}, kinds
    assert kinds["ok"] >= CALLERS * REQUESTS // 2
    assert max(c for c, _ in cache_sizes) <= module.MODELS.size, "the cache grew past its size"
    assert max(n for _, n in cache_sizes) <= len(MODELS) + len(BAD) and not module.MODELS._loading


def test_failed_loads_do_not_leave_locks_behind():
    """Regression: every distinct name that failed to load kept a lock in the cache for the life of the process."""
    module = load_app()
    cache = module.ModelCache(2, "cpu")
    for index in range(50):
        with pytest.raises(module.ic.UnknownModelError):
            cache.get(f"nope-{index}.nope")
    assert not cache._loading and not cache._models


def test_a_burst_beyond_the_queue_is_refused_at_once_and_the_app_recovers(tmp_path):
    """One worker and a queue of 2 (``INPAINT_APP_CONCURRENCY``, ``INPAINT_APP_QUEUE_SIZE``): of 12 requests sent at
    once, at least the running one and the 2 waiting ones get results, the rest are refused with "queue is full" (not
    kept in memory), and every one is answered; afterwards the app serves the next request."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "INPAINT_APP_CONCURRENCY": "1", "INPAINT_APP_QUEUE_SIZE": "2",
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "gradio_app.py"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        url, client, deadline = f"http://127.0.0.1:{port}/", None, time.monotonic() + 120
        while client is None:
            assert server.poll() is None and time.monotonic() < deadline, "the app did not start"
            try:
                client = Client(url, verbose=False)
            except Exception:  # not listening yet
                time.sleep(0.5)
        image = handle_file(save(tmp_path, "i.png", smooth_image(256, 256, 0)))
        mask = handle_file(save(tmp_path, "m.png", box_mask(256, 256, (64, 64, 192, 192))))
        jobs = [client.submit(image, mask, "ctsdg-compact-utkface", "original", api_name="/inpaint")
                for _ in range(12)]
        outcomes = Counter()
        for job in jobs:
            try:
                job.result(timeout=300)
                outcomes["result"] += 1
            except Exception as error:  # gradio_client's QueueError or AppError
                outcomes["queue full" if "queue is full" in str(error).lower() else f"other: {error}"] += 1
        assert sum(outcomes.values()) == 12 and set(outcomes) <= {"result", "queue full"}, outcomes
        assert outcomes["result"] >= 3 and outcomes["queue full"] >= 1, outcomes
        assert client.predict(image, mask, "opencv.telea", "crop", api_name="/inpaint")
    finally:
        server.terminate()
        server.wait(timeout=30)
