"""Benchmark 3 - virtual cohort: N subjects with different parameters and feeding
schedules, 30 days each, one `jax.vmap(simulate)` over subjects (in chunks that fit in
memory), returning each subject's daily intake and daily milk sodium.

Subjects: six influential parameters drawn log-normally (+-20 %, independent per
subject); schedules from a bank of patterns (8-12 feeds/day, 10-20 min per breast, first
feed 0.5-2 h after delivery, with or without night feeds) padded to one length, and a
per-subject latch effectiveness 0.7-1.0 scaling every feed. Same solver settings as
benchmark 1 (Tsit5, rtol = atol = 1e-6).

Sizes: CPU N = 1, 10, 100, 1000 (10 000 with --max-n 10000); GPU (jax.default_backend()
!= 'cpu') N = 1 ... 1e5 and 2e5. Peer: a SciPy LSODA loop (jitted RHS and Jacobian, see
benchmarks/peers.py) over the first few subjects.

  .venv/bin/python benchmarks/bench_cohort.py [--quick] [--max-n N] [--chunk C]
Writes benchmarks/results/cohort_<backend>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import common  # noqa: E402

NAME = "cohort"
VARIED = ("lactose_vmax_mmol_h", "storage_capacity_ml", "prolactin_receptor_k_ng_ml", "tj_permeability_l_h",
          "infant_stomach_mature_ml", "secreted_protein_g_l")
GPU_TARGET = dict(n=100_000, days=30, seconds=30.0)


def schedule_bank(days: int, n_patterns: int, seed: int = 7):
    """`n_patterns` different feeding schedules, padded and stacked (leading axis)."""
    from lactojax.inputs import make_inputs, regular_feeds, stack_inputs

    rng = np.random.default_rng(seed)
    items, desc = [], []
    for k in range(n_patterns):
        fpd = int(rng.integers(8, 13))
        dur = float(rng.choice([10.0, 12.5, 15.0, 17.5, 20.0]))
        first = float(rng.uniform(0.5, 2.0))
        night = bool(rng.random() < 0.75)
        items.append(make_inputs(regular_feeds(days, fpd, n_glands=2, duration_min=dur, first_feed_h=first,
                                               night_feeds=night), days))
        desc.append(dict(feeds_per_day=fpd, duration_min=dur, first_feed_h=first, night_feeds=night))
    return stack_inputs(items), desc


def subject_batch(bank, n_patterns, base, idx: np.ndarray, seed: int = 11):
    """Params and Inputs for subjects `idx` (deterministic in the subject index)."""
    from lactojax.parameters import Params

    # one RNG stream per subject index: the same subject gets the same draw in any chunk
    z = np.stack([np.random.default_rng([seed, int(i)]).standard_normal(len(VARIED) + 1) for i in idx])
    values = {}
    for k, v in base.values.items():
        values[k] = jnp.full((len(idx),), float(v))
    for j, name in enumerate(VARIED):
        values[name] = jnp.asarray(float(base[name]) * np.exp(0.2 * z[:, j]))
    params = Params(values=values)
    pattern = jnp.asarray(idx % n_patterns)
    inputs = jax.tree.map(lambda a: a[pattern], bank)
    eff = 0.7 + 0.3 / (1.0 + np.exp(-z[:, -1]))  # 0.7 .. 1.0
    feeds = inputs.feeds
    feeds = type(feeds)(start_h=feeds.start_h, end_h=feeds.end_h, gland_mask=feeds.gland_mask,
                        effectiveness=feeds.effectiveness * jnp.asarray(eff)[:, None], is_pump=feeds.is_pump)
    inputs = type(inputs)(feeds=feeds, dopamine_agonist=inputs.dopamine_agonist,
                          dopamine_antagonist=inputs.dopamine_antagonist, antibiotic=inputs.antibiotic,
                          nipple_breach=inputs.nipple_breach, profile=inputs.profile, horizon_h=inputs.horizon_h)
    return params, inputs


def make_cohort_fn(settings):
    from lactojax import observation as obs
    from lactojax.simulate import simulate

    def one(p, inp):
        traj = simulate(p, inp, settings)
        d = obs.daily(traj, p, inp)
        return dict(intake=d["milk_intake_ml"], sodium=d["milk_sodium_mmol_l"], steps=traj.num_steps,
                    success=traj.success)

    return jax.jit(jax.vmap(one))


def default_sizes(max_n=None):
    if common.on_accelerator():
        sizes = [1, 10, 100, 1_000, 10_000, 100_000, 200_000]
    else:
        sizes = [1, 10, 100, 1_000, 10_000]  # issue 6: up to 1e4 on CPU (~20 min on 2 cores)
    if max_n:
        sizes = [n for n in sizes if n <= max_n]
        if max_n not in sizes:
            sizes.append(int(max_n))
    return sorted(set(sizes))


def default_chunk(days: int, n_rows: int):
    """Subjects per vmap call: 100 on CPU (amortisation has levelled off by then); on an
    accelerator as many as fit in ~60 % of device memory: simulate saves the hourly grid
    and every feed start / end for every subject (52 float64 each), x1.5 for temporaries.
    On an 80 GB H100 that is ~35k subjects per call; on a 141 GB H200 ~60k."""
    if not common.on_accelerator():
        return 100
    bytes_per_subject = (days * 24 + 1 + 2 * n_rows) * 52 * 8 * 1.5
    limit = None
    try:
        limit = jax.devices()[0].memory_stats().get("bytes_limit")
    except Exception:  # noqa: BLE001
        pass
    limit = limit or 40 * 2**30
    return int(max(1000, min(200_000, 0.6 * limit // bytes_per_subject)))


def run(quick=False, max_n=None, chunk=None, scipy_n=None, repeats=None, days=None) -> dict:
    import lactojax  # noqa: F401
    from lactojax.parameters import Params
    from lactojax.solver import SolverSettings

    days = days or (1 if quick else 30)
    sizes = [1, 2] if quick else default_sizes(max_n)
    n_patterns = 4 if quick else 32
    settings = SolverSettings(method="adaptive", rtol=1e-6, atol=1e-6)  # the adaptive path; bench_long --cohort: sessions
    base = Params.nominal()
    bank, bank_desc = schedule_bank(days, n_patterns)
    n_rows = int(bank.feeds.start_h.shape[-1])
    chunk = chunk or (1 if quick else default_chunk(days, n_rows))
    fn = make_cohort_fn(settings)
    result = dict(settings=dict(days=days, n_glands=2, rtol=1e-6, atol=1e-6, solver="tsit5", sizes=sizes,
                                chunk=chunk, n_schedule_patterns=n_patterns, padded_feed_rows=n_rows,
                                varied_parameters=list(VARIED), parameter_spread="lognormal sd 0.2",
                                quick=quick, outputs="daily intake + daily sodium per subject",
                                schedule_patterns=bank_desc),
                  sizes={}, gpu_target=GPU_TARGET)
    compiled = {}
    for n in sizes:
        c = min(n, chunk)
        rep = repeats or (1 if quick else (3 if n <= 10 else (2 if n <= 100 else 1)))
        first = None
        if c not in compiled:
            p, i = subject_batch(bank, n_patterns, base, np.arange(c))
            t = time.perf_counter()
            jax.block_until_ready(fn(p, i))
            compiled[c] = time.perf_counter() - t
            first = compiled[c]
        walls, cpus, chunk_walls, steps_max, steps_mean, n_fail = [], [], [], [], [], 0
        intake_d30 = []
        with common.RSSSampler() as rss:
            for _ in range(rep):
                w0, c0 = time.perf_counter(), time.process_time()
                for start in range(0, n, c):
                    idx = np.arange(start, min(start + c, n))
                    if idx.size < c:  # pad the last chunk to the compiled size
                        idx = np.concatenate([idx, np.full(c - idx.size, idx[-1])])
                    p, i = subject_batch(bank, n_patterns, base, idx)
                    tc = time.perf_counter()
                    out = jax.block_until_ready(fn(p, i))
                    chunk_walls.append((time.perf_counter() - tc) / c)
                    real = min(c, n - start)
                    steps = np.asarray(out["steps"])[:real]
                    steps_max.append(int(steps.max()))
                    steps_mean.append(float(steps.mean()))
                    n_fail += int(np.sum(~np.asarray(out["success"])[:real]))
                    intake_d30.append(np.asarray(out["intake"])[:real, -1])
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
        wall = common.summarize(walls)
        intake_last = np.concatenate(intake_d30)
        row = dict(n=n, chunk=c, repeats=rep, first_call_s=first, wall_s=wall, cpu_s=common.summarize(cpus),
                   per_subject_s=wall["median"] / n, per_subject_chunk_s=common.summarize(chunk_walls),
                   steps_max_per_chunk_median=float(np.median(steps_max)), steps_mean=float(np.mean(steps_mean)),
                   failures=n_fail // rep, peak_rss_mb=rss.peak_mb, peak_rss_process_mb=common.peak_rss_mb(),
                   device_peak_mb=common.device_peak_memory_mb(),
                   last_day_intake_ml=dict(median=float(np.median(intake_last)), min=float(intake_last.min()),
                                           max=float(intake_last.max())))
        if common.on_accelerator() and n == GPU_TARGET["n"] and days == GPU_TARGET["days"]:
            row["gpu_target_met"] = bool(wall["median"] < GPU_TARGET["seconds"])
        result["sizes"][str(n)] = row
        print(f"[cohort] N={n}: {wall['median']:.2f} s, {1e3 * row['per_subject_s']:.2f} ms/subject, "
              f"peak RSS {rss.peak_mb:.0f} MB, steps max {row['steps_max_per_chunk_median']:.0f}", flush=True)

    # --- SciPy loop peer (LSODA, the faster SciPy method in benchmark 1) ---------------
    from peers import ScipyModel

    scipy_n = scipy_n or (1 if quick else 2)
    p_all, i_all = subject_batch(bank, n_patterns, base, np.arange(scipy_n))
    take = lambda tree, k: jax.tree.map(lambda a: a[k], tree)
    model = ScipyModel(take(p_all, 0), take(i_all, 0))
    model.warmup(jacobian=not quick)  # quick: LSODA rarely needs it (compiled on first use)
    per = []
    w0, c0 = time.perf_counter(), time.process_time()
    for k in range(scipy_n):
        m = model.with_subject(take(p_all, k), take(i_all, k))
        t = time.perf_counter()
        _, _, _, info = m.solve("LSODA", 1e-6, 1e-6)
        per.append(time.perf_counter() - t)
    result["scipy_loop"] = dict(method="LSODA", n=scipy_n, wall_s=time.perf_counter() - w0,
                                cpu_s=time.process_time() - c0, per_subject_s=common.summarize(per))
    sp = float(np.median(per))
    result["comparison"] = {n: dict(speedup_per_subject_vs_scipy_loop=sp / r["per_subject_s"])
                            for n, r in result["sizes"].items()}
    print(f"[cohort] SciPy LSODA loop: {sp:.2f} s/subject", flush=True)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--max-n", type=int, default=None)
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--scipy-n", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args(argv)
    res = run(args.quick, args.max_n, args.chunk, args.scipy_n, args.repeats)
    print(f"wrote {common.write_json(NAME + ('_quick' if args.quick else ''), res)}")


if __name__ == "__main__":
    main()
