"""Benchmark 7 - whole lactations: the session solver (the default `SolverSettings()`)
against the previous default, the detailed adaptive path (`method="adaptive"`), side by side
in one run: a 305-day cow (4 quarters, 2 milkings/day) and a 365-day mother (2 glands,
10 feeds/day), solve and two gradients of daily milk removed + daily mean sodium (reverse
mode): the fit gradient, w.r.t. a vector of the 8 parameters of FIT_NAMES as a fit
differentiates its log-density, and the gradient w.r.t. every leaf of `Params`
(informational); wall and process CPU time
(median of repeats), steps, compile time, and the accuracy of each path against a
tight-tolerance reference (adaptive Tsit5, rtol = atol = 1e-9): daily amounts and daily
composition (max relative error over the days), volume per session. The adaptive path runs
with max_steps = 1e6 (its default 1e5 fails a year; that failure is recorded).

  .venv/bin/python benchmarks/bench_long.py [--quick] [--repeats N] [--[no-]gradient]
  .venv/bin/python benchmarks/bench_long.py --cohort 100,1000   # N subjects x 30 days (vmapped)
  .venv/bin/python benchmarks/bench_long.py --cohort-only --cohort 1,10,100,1000,10000  # re-time the cohort alone
Writes benchmarks/results/long_<backend>.json (quick: long_quick_<backend>.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import common  # noqa: E402

NAME = "long"
# a fit's parameter vector: supply, storage, removal, tight junctions, hormones, slow states
FIT_NAMES = ("lactose_vmax_mmol_h", "storage_capacity_ml", "removal_rate_per_h", "tj_permeability_l_h",
             "prolactin_halflife_min", "oxytocin_halflife_min", "upr_tau_h", "lactose_capacity_tau_h")


def _case(name: str, days: float):
    from lactojax.inputs import make_inputs, milkings, regular_feeds
    from lactojax.parameters import Params

    if name == "cow":
        return Params.nominal("cow"), make_inputs(milkings(days, n_glands=4), days)
    return Params.nominal(), make_inputs(regular_feeds(days, 10, n_glands=2), days)


def benchmark_loss(params, inputs, settings):
    """What the gradients differentiate: daily milk removed + daily mean sodium, summed."""
    from lactojax import observation as obs
    from lactojax.simulate import simulate

    d = obs.daily(simulate(params, inputs, settings), params, inputs)
    return jnp.sum(d["milk_removed_ml"]) + jnp.sum(d["milk_sodium_mmol_l"])


def _timing(t: dict) -> dict:
    t = dict(t)
    t.pop("result", None)
    return t


def run_case(name: str, days: float, repeats: int, gradient: bool, check_default: bool = True) -> dict:
    from lactojax.sessions import agreement
    from lactojax.simulate import simulate
    from lactojax.solver import SolverSettings

    params, inputs = _case(name, days)
    # the default path for this species (a cow's session grid: SolverSettings.for_species)
    paths = {"sessions": SolverSettings.for_species("cow" if name == "cow" else "human"),
             "adaptive": SolverSettings(method="adaptive", max_steps=1_000_000)}
    tight = SolverSettings(method="adaptive", rtol=1e-9, atol=1e-9, max_steps=5_000_000)
    out = {"days": days, "n_glands": inputs.n_glands, "sessions_rows": int(np.sum(np.asarray(inputs.feeds.start_h) < inputs.horizon_h))}
    if check_default:  # does today's default (max_steps = 1e5) reach the horizon?
        out["adaptive_default_settings_success"] = bool(
            simulate(params, inputs, SolverSettings(method="adaptive", throw=False)).success)
    t = time.perf_counter()
    reference = jax.block_until_ready(simulate(params, inputs, tight))
    out["reference"] = dict(settings="adaptive Tsit5 rtol=atol=1e-9", num_steps=int(reference.num_steps),
                            wall_s=time.perf_counter() - t)

    def loss(p, settings):
        return benchmark_loss(p, inputs, settings)

    names = list(FIT_NAMES)
    theta0 = params.subset_vector(names)

    def gradients(settings):
        return {"gradient": (jax.jit(jax.grad(lambda p: loss(p, settings))), params),
                "fit_gradient": (jax.jit(jax.grad(lambda th: loss(params.with_vector(names, th), settings))), theta0)}

    for path, settings in paths.items():
        grads = gradients(settings) if gradient else {}
        # the solve and the fit gradient in alternating rounds: their ratio (the target) is then
        # measured under the same machine load (time_interleaved); the every-leaf gradient
        # (informational, the slowest) is timed after them, with fewer repeats
        calls = {"solve": (simulate, (params, inputs, settings))}
        if gradient:
            calls["fit_gradient"] = (grads["fit_gradient"][0], (grads["fit_gradient"][1],))
        # more rounds for the session solver (a round is seconds, not a minute as adaptively)
        rounds = common.time_interleaved(calls, repeats=repeats if path == "adaptive" else 2 * repeats + 1, warmup=1)
        timing = rounds["solve"]
        traj = timing["result"]
        entry = {"solve": _timing(timing), "num_steps": int(traj.num_steps), "success": bool(traj.success),
                 "accuracy_vs_reference": agreement(reference, traj, params, inputs)}
        if gradient:
            every = common.time_call(grads["gradient"][0], grads["gradient"][1], repeats=max(1, repeats // 2), warmup=1)
            ratios = {"fit_gradient": rounds["ratio"]["fit_gradient"],  # per round (paired)
                      "gradient": {k: every[k]["median"] / timing[k]["median"] for k in ("wall", "cpu")}}
            for key, g in (("fit_gradient", rounds["fit_gradient"]), ("gradient", every)):
                entry[key] = _timing(g)
                entry[key + "_finite"] = bool(all(np.all(np.isfinite(np.asarray(v))) for v in jax.tree.leaves(g["result"])))
                entry[key + "_over_solve"] = ratios[key]
            entry["fit_gradient_over_solve_paired"] = True
        out[path] = entry
    s, a = out["sessions"], out["adaptive"]
    # the solve ratio (the target) from paired rounds, one solve on each path per round, as the
    # gradient ratios are paired: both solves then see the same machine load, where the blocks
    # above run minutes apart on a machine whose speed drifts (the blocks' ratio for the cow was
    # 18.2x, 19.7x and 31.9x in three runs). The ratio of the blocks' medians is kept beside it.
    paired = common.time_interleaved({p: (simulate, (params, inputs, st)) for p, st in paths.items()},
                                     repeats=2 * repeats + 1, warmup=1)
    out["solve_paired"] = {p: _timing(paired[p]) for p in paths}
    out["speedup_solve"] = dict(paired["ratio"]["adaptive"])  # median over rounds of adaptive / sessions
    out["speedup_solve_paired"] = True
    out["speedup_solve_blocks"] = {k: a["solve"][k]["median"] / s["solve"][k]["median"] for k in ("wall", "cpu")}
    if gradient:
        for key in ("gradient", "fit_gradient"):
            out["speedup_" + key] = {k: a[key][k]["median"] / s[key][k]["median"] for k in ("wall", "cpu")}
    out["fit_gradient_parameters"] = names
    return out


def run_cohort(sizes, days: float = 30.0, chunk: int | None = None, repeats: int = 2) -> dict:
    """N virtual mothers (lactose_vmax and storage capacity drawn from their priors) x `days`,
    fast path, vmapped in chunks; daily intake per subject is what is kept."""
    from lactojax import observation as obs
    from lactojax.inference.priors import PriorSet
    from lactojax.simulate import simulate
    from lactojax.solver import SolverSettings

    params, inputs = _case("mother", days)
    names = ["lactose_vmax_mmol_h", "storage_capacity_ml", "removal_rate_per_h"]
    prior = PriorSet.from_table(names)
    settings = SolverSettings()
    chunk = chunk or (4096 if common.on_accelerator() else 256)

    @jax.jit
    def batch(theta):
        def one(th):
            p = params.with_vector(names, th)
            return obs.daily(simulate(p, inputs, settings), p, inputs)["milk_intake_ml"]
        return jax.vmap(one)(theta)

    out = {"days": days, "chunk": chunk, "sizes": {}}
    for n in sizes:
        theta = prior.sample_theta(jax.random.PRNGKey(n), (n,))
        b = min(n, chunk)
        pad = (-n) % b
        theta = jnp.concatenate([theta, jnp.repeat(theta[-1:], pad, axis=0)]) if pad else theta
        blocks = theta.reshape((-1, b, theta.shape[-1]))

        def all_blocks():
            return [batch(x) for x in blocks]

        t = common.time_call(all_blocks, repeats=repeats, warmup=1)
        intake = np.concatenate([np.asarray(x) for x in t.pop("result")])[:n]
        t["per_subject_wall_s"] = t["wall"]["median"] / n
        t["per_subject_cpu_s"] = t["cpu"]["median"] / n
        t["all_finite"] = bool(np.all(np.isfinite(intake)))
        out["sizes"][str(n)] = t
    return out


def run(quick: bool = False, repeats: int | None = None, gradient: bool | None = None, cohort=()) -> dict:
    """Quick mode: 2-day horizons, solves only unless `gradient=True` (compiling the two
    gradients takes longer than the quick budget of a minute on 2 cores)."""
    import lactojax  # noqa: F401

    repeats = repeats or (2 if quick else 3)
    gradient = (not quick) if gradient is None else gradient
    days = {"cow": 2.0, "mother": 2.0} if quick else {"cow": 305.0, "mother": 365.0}
    result = {"settings": dict(quick=quick, repeats=repeats, gradient=gradient,
                               fast="SolverSettings() (method='sessions', the default)",
                               adaptive="SolverSettings(method='adaptive', max_steps=1_000_000) (Tsit5 rtol=atol=1e-6)")}
    for name, d in days.items():
        t = time.perf_counter()
        result[name] = run_case(name, d, repeats, gradient, check_default=not quick)
        print(f"{name} {d:.0f} d done in {time.perf_counter() - t:.0f} s", flush=True)
    if cohort:
        result["cohort"] = run_cohort(cohort, days=2.0 if quick else 30.0)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny horizons (smoke test, < 60 s)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--gradient", action=argparse.BooleanOptionalAction, default=None,
                    help="time gradients too (default: yes, except with --quick)")
    ap.add_argument("--cohort", type=str, default="", help="comma-separated cohort sizes, e.g. 100,1000")
    ap.add_argument("--cohort-only", action="store_true",
                    help="time only the cohort and replace the 'cohort' section of the existing JSON "
                         "(with its own machine stamp and command; the cases keep theirs)")
    args = ap.parse_args(argv)
    cohort = tuple(int(x) for x in args.cohort.split(",") if x.strip())
    if args.cohort_only:
        if not cohort:
            ap.error("--cohort-only needs --cohort SIZES")
        existing = common.read_json(NAME, common.backend())
        if existing is None:
            ap.error(f"--cohort-only: no {NAME}_{common.backend()}.json to update; run the whole benchmark first")
        import lactojax  # noqa: F401

        section = run_cohort(cohort)
        section.update(machine=common.machine_info(), command=" ".join([Path(sys.executable).name] + sys.argv))
        existing["cohort"] = section
        path = common.write_json(NAME, existing)
        for n, t in section["sizes"].items():
            print(f"cohort N = {n}: {t['per_subject_wall_s'] * 1e3:.1f} ms per subject")
        print(f"wrote {path}")
        return 0
    res = run(args.quick, args.repeats, args.gradient, cohort)
    path = common.write_json(NAME + ("_quick" if args.quick else ""), res)
    for name in ("cow", "mother"):
        c = res[name]
        print(f"{name}: sessions {c['sessions']['solve']['cpu']['median'] * 1e3:.0f} ms CPU "
              f"({c['sessions']['num_steps']} steps) vs adaptive {c['adaptive']['solve']['cpu']['median'] * 1e3:.0f} ms "
              f"({c['adaptive']['num_steps']} steps): {c['speedup_solve']['cpu']:.1f}x; "
              f"daily max rel err {c['sessions']['accuracy_vs_reference']['daily_max']:.1e}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
