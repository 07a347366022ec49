"""Inference time and peak memory of CTSDG (ours; optionally the official implementation side by side).

Each measurement runs in a fresh subprocess: build the generator (seeded random weights; with ``--official-dir``
both implementations get the same weights, and the script also reports how far apart their outputs are), run one
warm-up, then time ``--repeats`` runs and report the median. With ``--official-dir`` the times come from one more
subprocess that runs the two implementations alternately, so that a load that changes on a shared machine slows
both alike; memory is measured in a subprocess of its own for each. What is timed is the whole test-time
computation on a 256x256 or 512x512 image with a 25 % hole: Canny edges and gray image (legacy preprocessing,
scikit-image on the CPU) plus the generator. Ours is ``model.predict`` under ``torch.inference_mode()``; the
official one is its ``utils.canny.image_to_edge`` and ``Generator.forward`` under ``torch.no_grad()``, as in its
``test.py``.

Memory, CPU: the subprocess's peak resident set size (``ru_maxrss``: weights, inputs, every buffer the allocator
held at the worst moment) and its increase over the RSS right after the model was built (``infer``: what inference
adds). CUDA: ``torch.cuda.max_memory_allocated`` over the timed runs (tensors only, no allocator cache).

    python benchmarks/bench_ctsdg.py [--sizes 256 512] [--device cuda] [--official-dir /path/to/ctsdg]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def _inputs(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = torch.stack([0.5 + 0.4 * torch.sin(9 * xx + c) * torch.cos(7 * yy - c) for c in range(3)])[None]
    image = ((image + 0.05 * torch.randn(image.shape, generator=g)).clamp(0, 1) * 255).round() / 255
    hole = torch.zeros(1, 1, size, size)
    hole[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1
    return image, hole


def _official_generator(official_dir: str, seed: int):
    sys.path.insert(0, official_dir)
    from models.generator.generator import Generator  # official code, imported from the user's checkout

    torch.manual_seed(seed)
    return Generator(image_in_channels=3, edge_in_channels=2, out_channels=3)


def _runner(impl: str, args: argparse.Namespace, size: int):
    """A function running one implementation's whole test-time computation on the benchmark input."""
    from safetensors.torch import load_file

    device = torch.device(args.device)
    image, hole = _inputs(size)
    if impl == "ours":
        import inpaint_core as ic

        model = ic.build_model("ctsdg.celeba")
        if args.weights:
            model.load_state_dict(load_file(args.weights), strict=True)
        model = model.to(device).eval()
        image, hole = image.to(device), hole.to(device)

        def run() -> torch.Tensor:
            with torch.inference_mode():
                return model.predict(image, hole)

        return run
    generator = _official_generator(str(args.official_dir), 0)
    generator.load_state_dict(load_file(args.weights), strict=True)
    generator.to(device)
    generator.eval()  # the official train() override returns None: no chaining
    from utils.canny import image_to_edge  # official code, on sys.path now

    def run_official() -> torch.Tensor:
        with torch.no_grad():
            truth = (image[0] - 0.5) / 0.5  # ToTensor + Normalize of the 8-bit picture
            edge, gray = image_to_edge(truth, sigma=2.0)
            truth, edge, gray = truth[None].to(device), edge[None].to(device), gray[None].to(device)
            mask = 1 - hole.to(device)
            output, _, _ = generator(truth * mask, torch.cat((edge * mask, gray * mask), 1), mask)
            return ((output + 1) / 2).clamp(0, 1)

    return run_official


def _timed(run, device: torch.device) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    output = run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, output


def worker(args: argparse.Namespace) -> None:
    """``ours`` / ``official``: one implementation, timed and its memory measured (prints a JSON line, saves the
    output to ``--output``). ``both``: the two implementations alternately in one process, so that a changing load
    on the machine affects both alike; only times are reported."""
    from safetensors.torch import save_file

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    impls = ("ours", "official") if args.impl == "both" else (args.impl,)
    runs = {impl: _runner(impl, args, args.size) for impl in impls}
    built = _rss_bytes()
    for run in runs.values():
        run()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times: dict[str, list[float]] = {impl: [] for impl in impls}
    for _ in range(args.repeats):
        for impl, run in runs.items():
            elapsed, output = _timed(run, device)
            times[impl].append(elapsed)
    result = {f"time_{impl}": statistics.median(values) for impl, values in times.items()}
    if args.impl != "both":
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result.update(time=result[f"time_{args.impl}"], peak=peak, infer=peak - built)
        if device.type == "cuda":
            result["cuda_peak"] = torch.cuda.max_memory_allocated()
        if args.output:
            save_file({"output": output.float().cpu().contiguous()}, args.output)
    print(json.dumps(result))


def _spawn(args: argparse.Namespace, impl: str, size: int, weights: str | None, output: str,
           repeats: int | None = None) -> dict:
    command = [sys.executable, __file__, "--worker", impl, "--size", str(size), "--device", args.device,
               "--threads", str(args.threads), "--repeats", str(repeats or args.repeats), "--output", output]
    if weights:
        command += ["--weights", weights]
    if args.official_dir:
        command += ["--official-dir", str(args.official_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{impl} at {size} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--official-dir", type=Path)
    parser.add_argument("--worker", choices=["ours", "official", "both"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.impl = args.worker
        worker(args)
        return

    gb = 1024**3
    with tempfile.TemporaryDirectory() as tmp:
        weights = None
        if args.official_dir:
            from safetensors.torch import save_file

            generator = _official_generator(str(args.official_dir.resolve()), 0)
            weights = str(Path(tmp) / "weights.safetensors")
            save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, weights)
        memory = "CUDA peak allocated" if args.device.startswith("cuda") else "peak RSS (inference adds)"
        header = f"| size | ours: time | ours: {memory} |"
        rule = "|---|---|---|"
        if args.official_dir:
            header += f" official: time | official: {memory} | speed-up | max abs diff |"
            rule += "---|---|---|---|"
        print(f"CTSDG (default widths, legacy preprocessing), device {args.device}, {args.threads} threads, "
              f"median of {args.repeats}, torch {torch.__version__}\n\n{header}\n{rule}")

        def memory_text(r: dict) -> str:
            if "cuda_peak" in r:
                return f"{r['cuda_peak'] / gb:.2f} GB"
            return f"{r['peak'] / gb:.2f} GB ({r['infer'] / gb:.2f} GB)"

        for size in args.sizes:
            if not args.official_dir:
                ours = _spawn(args, "ours", size, None, str(Path(tmp) / "ours.safetensors"))
                print(f"| {size}x{size} | {ours['time']:.3f} s | {memory_text(ours)} |", flush=True)
                continue
            from safetensors.torch import load_file

            ours = _spawn(args, "ours", size, weights, str(Path(tmp) / "ours.safetensors"), repeats=1)
            official = _spawn(args, "official", size, weights, str(Path(tmp) / "official.safetensors"), repeats=1)
            both = _spawn(args, "both", size, weights, "")
            diff = (load_file(str(Path(tmp) / "ours.safetensors"))["output"]
                    - load_file(str(Path(tmp) / "official.safetensors"))["output"]).abs().max()
            speedup = both["time_official"] / both["time_ours"]
            print(f"| {size}x{size} | {both['time_ours']:.3f} s | {memory_text(ours)} | "
                  f"{both['time_official']:.3f} s | {memory_text(official)} | {speedup:.2f}x | {float(diff):.2g} |",
                  flush=True)

if __name__ == "__main__":
    main()
