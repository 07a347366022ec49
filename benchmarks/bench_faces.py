"""Inference time and peak memory of the face models at 256x256 (random weights; batch 1), printed as Markdown.

Each model runs in its own process, so that memory figures do not mix. Rows: our ``psp.ffhq`` (256 in, 1024
generated, pooled to 256), ``isfrnet.full`` (pSp + stages 2 and 3), and, with ``--official-dir``, the official pSp
code on the same input (its CUDA ops replaced by their CPU paths, see ``parity_psp.py``) as the baseline.

CPU time (all threads of the process) is reported next to wall time: on a shared machine it is the steadier figure.
Memory: on CPU the peak resident set size while the forward passes run (the kernel's high-water mark, reset after
the model is built; weights included) and the peak of the whole process; on CUDA ``max_memory_allocated``.

    python benchmarks/bench_faces.py [--device cuda] [--repeats 5] [--official-dir /path/to/pixel2style2pixel]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import inpaint_core as ic

MODELS = ("official-psp", "psp.ffhq", "isfrnet.full")


def _rss_peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _reset_rss_peak() -> bool:
    """Hand freed heap back to the OS (glibc keeps it resident otherwise), then reset the RSS high-water mark."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _official(official_dir: Path):
    sys.path.insert(0, str(Path(__file__).parent))
    import parity_psp  # noqa: PLC0415

    parity_psp.import_official(official_dir)
    return parity_psp


def _build(name: str, official_dir: Path | None, release: Path | None):
    """``(model, run(model, image01, hole))`` for one model on CPU with random weights."""
    if name == "official-psp":  # loads a released-format file, as a user of the official code does
        parity_psp = _official(official_dir)
        model = parity_psp.load_official(official_dir, parity_psp.official_opts(1024), release)
        return model, lambda m, x, h: m(x * 2 - 1, resize=True, randomize_noise=False, return_latents=True)
    torch.manual_seed(0)
    model = ic.build_model(name).eval()
    return model, lambda m, x, h: m.predict(x, h)


def measure(name: str, device: str, repeats: int, threads: int, official_dir: Path | None,
            release: Path | None) -> dict:
    torch.set_num_threads(threads)
    model, run = _build(name, official_dir, release)
    model = model.to(device)
    if name == "official-psp":  # a plain tensor attribute there, which .to() does not move
        model.latent_avg = model.latent_avg.to(device)
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 256, 256, generator=generator).to(device)
    hole = torch.zeros(1, 1, 256, 256, device=device)
    hole[..., 64:192, 48:176] = 1
    synchronize = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    reset = _reset_rss_peak() if device == "cpu" else torch.cuda.reset_peak_memory_stats()
    times, cpu_times = [], []
    with torch.inference_mode():
        run(model, image, hole)  # warm-up
        synchronize()
        for _ in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            run(model, image, hole)
            synchronize()
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    if device == "cpu":
        peak = _rss_peak_kb() / 2**20 if reset is not False else float("nan")
    else:
        peak = torch.cuda.max_memory_allocated() / 2**30
    return {"model": name, "median_s": statistics.median(times), "min_s": min(times), "peak_gb": peak,
            "cpu_s": statistics.median(cpu_times),
            "process_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "params_m": sum(p.numel() for p in model.parameters()) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--official-dir", type=Path, default=None)
    parser.add_argument("--models", nargs="+", default=None, choices=MODELS)
    parser.add_argument("--one", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--release", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write-release", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_release:
        _official(args.official_dir).write_random_release(1024, args.write_release, seed=0)
        return
    if args.one:
        print(json.dumps(measure(args.one, args.device, args.repeats, args.threads, args.official_dir, args.release)))
        return
    models = args.models or [m for m in MODELS if m != "official-psp" or args.official_dir is not None]
    with tempfile.TemporaryDirectory() as tmp:
        release = Path(tmp) / "psp_random.pt"
        common = ["--official-dir", str(args.official_dir), "--release", str(release)] if args.official_dir else []
        if "official-psp" in models:
            subprocess.run([sys.executable, __file__, "--write-release", str(release), *common[:2]], check=True)
        rows = _run_all(models, args, common)
    _print_table(rows, args)


def _run_all(models: list[str], args: argparse.Namespace, common: list[str]) -> list[dict]:
    rows = []
    for name in models:
        command = [sys.executable, __file__, "--one", name, "--device", args.device, "--repeats", str(args.repeats),
                   "--threads", str(args.threads), *common]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{name} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def _print_table(rows: list[dict], args: argparse.Namespace) -> None:
    baseline = next((r for r in rows if r["model"] == "official-psp"), None)
    memory = "peak GPU memory (GB)" if args.device.startswith("cuda") else "peak RSS in forward (GB)"
    print(f"device {args.device}, {args.threads} threads, batch 1, 256x256, median of {args.repeats}\n")
    print(f"| model | params (M) | median (s) | min (s) | CPU time (s) | {memory} | process peak RSS (GB) "
          "| speed-up vs official (wall / CPU time) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = (f"{baseline['median_s'] / r['median_s']:.2f}x / {baseline['cpu_s'] / r['cpu_s']:.2f}x"
                 if baseline else "-")
        print(f"| {r['model']} | {r['params_m']:.1f} | {r['median_s']:.2f} | {r['min_s']:.2f} | {r['cpu_s']:.2f} "
              f"| {r['peak_gb']:.2f} | {r['process_peak_gb']:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
