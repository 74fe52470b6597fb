"""Shared helpers for the benchmarks: machine and version info, repeated timing with
median and spread, peak-memory probes, JSON output to `benchmarks/results/`.

Every benchmark writes one JSON file `benchmarks/results/<name>_<backend>.json` (backend =
`cpu` or `gpu`, from `jax.default_backend()`), so CPU and GPU runs of the same benchmark sit
side by side and `benchmarks/report.py` can put them in one table.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import jax
import numpy as np

from lactojax.atomic import write_text

# Benchmarks measure the float64 model; importing lactojax leaves JAX's precision alone.
jax.config.update("jax_enable_x64", True)


def _steady_allocator() -> str:
    """Stop glibc's malloc from returning freed memory to the OS between calls.

    With its defaults, the large buffers one XLA call frees (a whole-lactation gradient) raise
    malloc's dynamic mmap threshold and are trimmed from the heap, so the next calls may fault
    their pages in again. Fixed thresholds (mallopt, as MALLOC_TRIM_THRESHOLD_ /
    MALLOC_MMAP_THRESHOLD_ would set them) make a call's allocator state independent of the
    call before it. Measured on 2 cores (2026-12-01): once, a 305-day cow solve took ~170 ms
    after a gradient and ~110 ms before; a later A/B in fresh processes (default / mallopt /
    environment variables: 118 / 125 / 202 ms between gradients) did not reproduce a gain,
    as this machine's speed drifts more than that. Kept as a fixed, recorded condition
    (machine.allocator); benchmark processes only, the library leaves the process alone."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return "default (not Linux)"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_trim_threshold, 1 << 30) and libc.mallopt(m_mmap_threshold, 32 << 20)
    except (OSError, AttributeError):
        return "default (no glibc mallopt)"
    return "glibc mallopt: trim threshold 1 GiB, mmap threshold 32 MiB" if ok else "default (mallopt refused)"


ALLOCATOR = _steady_allocator()
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("LACTOJAX_BENCH_RESULTS", ROOT / "benchmarks" / "results"))
SCHEMA_VERSION = 1


def backend() -> str:
    import jax

    return jax.default_backend()  # 'cpu', 'gpu' (CUDA/ROCm) or 'tpu'


def on_accelerator() -> bool:
    return backend() != "cpu"


def _git_revision() -> str | None:
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10)
        if rev.returncode:
            return None
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("jax", "jaxlib", "diffrax", "equinox", "optimistix", "lineax", "numpy", "scipy", "numpyro",
                "optax", "arviz", "lactojax"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "unknown")
        except Exception:  # noqa: BLE001 - a missing optional package is just reported
            out[mod] = None
    return out


def machine_info() -> dict:
    import jax

    devices = jax.devices()
    info = {
        "backend": backend(),
        "devices": [str(d) for d in devices],
        "device_kind": devices[0].device_kind if devices else None,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "hostname": platform.node(),
        "x64": bool(jax.config.jax_enable_x64),
        "git_revision": _git_revision(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "allocator": ALLOCATOR,
    }
    try:
        info["loadavg_1_5_15"] = list(os.getloadavg())
    except OSError:
        info["loadavg_1_5_15"] = None
    try:
        import psutil

        info["memory_total_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:  # noqa: BLE001
        info["memory_total_gb"] = None
    return info


def summarize(samples) -> dict:
    """Median and spread (IQR, min, max) of repeated timings (seconds)."""
    a = np.asarray(samples, dtype=float)
    if a.size == 0:
        return {"n": 0, "median": None, "iqr": None, "q25": None, "q75": None, "min": None, "max": None}
    q25, med, q75 = np.percentile(a, [25, 50, 75])
    return {
        "n": int(a.size),
        "median": float(med),
        "iqr": float(q75 - q25),
        "q25": float(q25),
        "q75": float(q75),
        "min": float(a.min()),
        "max": float(a.max()),
        "samples": [float(x) for x in a],
    }


def block(x):
    import jax

    return jax.block_until_ready(x)


def time_call(fn, *args, repeats: int = 5, warmup: int = 1, min_time_s: float = 0.0) -> dict:
    """Call `fn(*args)` `warmup` times (compilation), then `repeats` times.

    Returns {'first_call_s', 'wall': summarize(...), 'cpu': summarize(...), 'result'}.
    Wall time is what a user waits; process CPU time (all threads) is also kept because
    this shared 2-core machine runs other jobs: CPU time is the less noisy figure there.
    If `min_time_s` > 0, keep repeating until the total timed time exceeds it.
    """
    first, out = _warm(fn, args, warmup)
    walls, cpus = [], []
    total = 0.0
    i = 0
    while i < repeats or total < min_time_s:
        out, dw, dc = _timed(fn, args)
        walls.append(dw)
        cpus.append(dc)
        total += dw
        i += 1
        if i >= 10 * max(repeats, 1):
            break
    return {"first_call_s": first, "wall": summarize(walls), "cpu": summarize(cpus), "result": out}


def _warm(fn, args, warmup: int):
    """(seconds, result) of `warmup` calls (the first compiles)."""
    t0 = time.perf_counter()
    out = None
    for _ in range(max(warmup, 0)):
        out = block(fn(*args))
    return time.perf_counter() - t0, out


def _timed(fn, args):
    """(result, wall s, process CPU s) of one call, blocked until its result is ready."""
    w, c = time.perf_counter(), time.process_time()
    out = block(fn(*args))
    return out, time.perf_counter() - w, time.process_time() - c


def time_interleaved(calls: dict, repeats: int = 5, warmup: int = 1) -> dict:
    """Time several calls in rounds, one call of each per round (`calls`: name -> (fn, args)),
    so that their ratios are measured under the same machine load: on a shared machine whose
    speed drifts over minutes, timing one function after the other can move a ratio by 2x.
    Returns name -> `time_call`'s dict, plus 'ratio' -> {name: {'wall', 'cpu'}}: the median
    over rounds of each call's time over the first call's time in the same round."""
    out, walls, cpus = {}, {}, {}
    for name, (fn, args) in calls.items():
        first, result = _warm(fn, args, warmup)
        out[name] = {"first_call_s": first, "result": result}
        walls[name], cpus[name] = [], []
    for _ in range(repeats):
        for name, (fn, args) in calls.items():
            out[name]["result"], dw, dc = _timed(fn, args)
            walls[name].append(dw)
            cpus[name].append(dc)
    first = next(iter(calls))
    ratio = {}
    for name in calls:
        out[name].update(wall=summarize(walls[name]), cpu=summarize(cpus[name]))
        ratio[name] = {k: float(np.median(np.asarray(t[name]) / np.asarray(t[first])))
                       for k, t in (("wall", walls), ("cpu", cpus))}
    out["ratio"] = ratio
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class RSSSampler:
    """Samples this process's RSS in a thread: peak RSS *during* a block (MiB), which
    `ru_maxrss` cannot give once an earlier step already peaked higher."""

    def __init__(self, interval_s: float = 0.02):
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def _run(self):
        import psutil

        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, proc.memory_info().rss / 2**20)
            time.sleep(self.interval_s)

    def __enter__(self):
        try:
            import psutil  # noqa: F401

            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        except ImportError:
            self._thread = None
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return False


def device_peak_memory_mb() -> float | None:
    """Peak device (GPU) memory in MiB from the allocator, when the backend reports it."""
    import jax

    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # noqa: BLE001
        return None
    if not stats:
        return None
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else peak / 2**20


def _clean(obj):
    """JSON-safe: numpy scalars to Python, non-finite floats to None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    return obj


def result_path(name: str, backend_name: str | None = None) -> Path:
    return RESULTS / f"{name}_{backend_name or backend()}.json"


def write_json(name: str, payload: dict, backend_name: str | None = None) -> Path:
    """Write `payload` (+ schema, machine, versions unless present) to results/<name>_<backend>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "schema_version": SCHEMA_VERSION}
    data.update(payload)
    data.setdefault("machine", machine_info())
    data.setdefault("versions", versions())
    data.setdefault("command", " ".join([Path(sys.executable).name] + sys.argv))
    path = result_path(name, backend_name)
    write_text(path, json.dumps(_clean(data), indent=1, sort_keys=False) + "\n")
    return path


def read_json(name: str, backend_name: str) -> dict | None:
    path = result_path(name, backend_name)
    if not path.exists():
        return None
    return json.loads(path.read_text())
