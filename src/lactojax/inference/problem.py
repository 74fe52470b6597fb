"""The fit problem: data, design and priors as one pytree (`FitProblem`), built from data
rows through the observation registry (`lactojax.observables`).

    x (unconstrained) -> z per subject -> theta (bounded, `PriorSet`) -> Params
      -> simulate(throw=False) -> features (registry outputs) -> one prediction per row
      -> lactojax.likelihoods.dataset_loglik_terms (lactojax.inference.density)

`FitProblem` is an equinox Module: its array leaves are the data (values, scales,
likelihood kinds, the row -> feature maps), the inputs, the base parameters and the prior;
only names, solver settings and the model kind are static. Two problems with the same
shapes share compiled code (an SBC replicate, another mother with the same design). The
host-side tables (rows used, rows excluded with their reason) travel beside it in
`FitData`.

model = "group": one simulated mother for published group summaries. model =
"hierarchical": one simulation per subject (vmapped) with subject-level parameters around
population means (lactojax.inference.density, module doc).

Mapping rows to predictions (docs/fitting.md), by the registry's reader of the row's
observable (`observables.BY_DATA_NAME`):
- DAILY: mean of the daily value over the whole days inside [t_start, t_end); a point time
  t (t_start == t_end) is the 24 h ending at t (day ceil(t/24) - 1);
- EVENT: `observation.event_times` (reference day 7); PARAM: the parameter itself;
- SESSION: the session starting nearest the row's t_end_h (within 1 h);
- SESSION_RATE: the sessions starting in [t_start, t_end), summed, per day;
- SESSION_SUM (milk removed per feed): the sessions starting in [t_start, t_end), summed (a
  point time: the session starting nearest it, within 1 h);
- a row naming a gland (a breast, a quarter) reads the gland's own output
  (`Observable.per_gland`: daily production or sodium per gland, milk removed from that
  gland at a feed); observables without one are excluded with that reason;
- SESSION_POOLED (somatic cell count): a row shorter than a day as SESSION; a row spanning a
  day or more: sum_m c_m y_m / sum_m y_m over the sessions m starting in [t_start, t_end)
  (c: the per-session value, y: its weight, the yield).
A row is pred = sum_m weight[r, m] * features[index[r, m]] over its subject's features,
divided by sum_m den_weight[r, m] * features[den_index[r, m]] for a pooled row (rows with
no den_weight are not divided). Rows whose window is not inside the simulated horizon, or
whose observable has no output in the registry, are excluded and listed with a reason
(`FitData.excluded`), as are the rows a dataset's exclusion rules keep out of fitting
(`lactojax.datasets.exclusions`, e.g. a somatic cell count of 0 under a log-scale likelihood).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pandas as pd

from lactojax import likelihoods as lk
from lactojax import observables as ob
from lactojax.datasets import fit_table, load_dataset
from lactojax.datasets.arrays import individual_kind
from lactojax.datasets.exclusions import exclusion_reasons
from lactojax.datasets.schema import GLANDS
from lactojax.datasets.vocabulary import CODES, default_noise_sigma
from lactojax.inference.heterogeneity import DEFAULT_SCALE, Discrepancy, discrepancy
from lactojax.inference.noise import DEFAULT_PRIOR_SD as NOISE_PRIOR_SD
from lactojax.inference.noise import FittedNoise, fitted_noise
from lactojax.inference.priors import PriorSet
from lactojax.inputs import Inputs, feed_schedule, make_inputs, milkings, regular_feeds, stack_inputs
from lactojax.parameters import Params
from lactojax.solver import SolverSettings

EVENT_REFERENCE_DAY = 7
SESSION_TOLERANCE_H = 1.0  # a per-session record is matched to a session starting this close
# a daily-yield row averages the sessions in its window: up to a fortnight of 3x milking
MAX_SESSIONS_PER_ROW = 48

# feature blocks of one subject, in this order (`feature_offsets`)
FIT_DAILY = ob.fitted(ob.DAILY)
FIT_EVENTS = ob.fitted(ob.EVENT)
FIT_PARAMS = ob.fitted(ob.PARAM)
FIT_SESSIONS = tuple(o for r in ob.SESSION_READERS for o in ob.fitted(r))
# per-gland outputs that rows naming a gland read (`Observable.per_gland`): daily ones
# (days x glands each) and per-session ones (sessions x glands each)
_PER_GLAND = tuple(dict.fromkeys(ob.OBSERVABLES[o.per_gland] for o in ob.REGISTRY if o.per_gland and o.data))
FIT_DAILY_GLAND = tuple(o for o in _PER_GLAND if o.reader == ob.DAILY)
SESSION_GLAND_KEYS = tuple(dict.fromkeys(o.source_key for o in _PER_GLAND if o.reader in ob.SESSION_READERS))
DAILY_GLAND, SESSION_GLAND = "daily_gland", "session_gland"  # their feature blocks
# per-session features, n_sessions each: the outputs read, and for a pooled output its
# weight and value x weight (`Observable.weighted_key`, computed in inference.density)
SESSION_KEYS = tuple(dict.fromkeys(k for o in FIT_SESSIONS for k in (o.source_key, o.weight, o.weighted_key) if k))
POOLED_MIN_WINDOW_H = 24.0  # a SESSION_POOLED row this long or longer pools its sessions


def feature_offsets(n_days: int, n_sessions: int, n_glands: int = 1) -> dict[str, int]:
    """Start of each reader's block in a subject's feature vector, and its length ("end")."""
    sizes = (len(FIT_DAILY) * n_days, len(FIT_EVENTS), len(FIT_PARAMS), len(SESSION_KEYS) * n_sessions,
             len(FIT_DAILY_GLAND) * n_days * n_glands, len(SESSION_GLAND_KEYS) * n_sessions * n_glands)
    return dict(zip((ob.DAILY, ob.EVENT, ob.PARAM, ob.SESSION, DAILY_GLAND, SESSION_GLAND, "end"),
                    itertools.accumulate(sizes, initial=0)))


def _gland_code(g) -> int:
    """The gland a row's `gland` cell names (`datasets.schema.GLANDS` code), -1 for none."""
    try:
        return int(g) if g == g else -1  # NaN: none
    except (TypeError, ValueError):
        return -1


class RowData(eqx.Module):
    """One entry per data row (all subjects): what `likelihoods.dataset_loglik_terms`
    reads, and the rows' map onto the subjects' features."""

    value: jnp.ndarray  # model units
    scale: jnp.ndarray  # SE of a group mean (1 for individual rows: noise model)
    sd: jnp.ndarray  # between-subject SD
    kind: jnp.ndarray  # likelihood kind (likelihoods.GROUP_MEAN, ...)
    obs_code: jnp.ndarray  # vocabulary code (noise scale of individual rows)
    index: jnp.ndarray  # (R, M) into the flattened (subjects x features) vector
    weight: jnp.ndarray  # (R, M)
    den_index: jnp.ndarray  # (R, M') denominator of a pooled row (module doc)
    den_weight: jnp.ndarray  # (R, M'); all 0: the row is not divided


class FitProblem(eqx.Module):
    """Everything the log-density needs (module doc). inputs: the design (a leading
    subject axis for model="hierarchical"); base: Params with the fixed values."""

    prior: PriorSet
    base: Params
    inputs: Inputs
    rows: RowData
    noise: lk.NoiseModel
    tau_scale: jnp.ndarray  # hierarchical: HalfNormal scale of the population spreads (z-scale)
    names: tuple[str, ...] = eqx.field(static=True)
    settings: SolverSettings = eqx.field(static=True)
    # hierarchical population levels (lactojax.inference.density, module doc): each subject's
    # population centre (S,), and its 0/1 design over the non-reference levels of the
    # offset factors (S, O), whose offsets have a Normal(0, offset_scale) prior (z-scale)
    centre_of: jnp.ndarray = eqx.field(default_factory=lambda: jnp.zeros(1, dtype=jnp.int32))
    offset_design: jnp.ndarray = eqx.field(default_factory=lambda: jnp.zeros((1, 0)))
    offset_scale: jnp.ndarray = eqx.field(default_factory=lambda: jnp.asarray(0.5))
    model: str = eqx.field(static=True, default="group")
    n_centres: int = eqx.field(static=True, default=1)  # population centres (first factor's levels)
    readers: tuple[str, ...] = eqx.field(static=True, default=(ob.DAILY,))
    # between-study discrepancy of the group-mean rows (`inference.heterogeneity`): its log
    # kappas are the last entries of x
    discrepancy: Discrepancy = eqx.field(default_factory=Discrepancy)
    # fitted measurement noise of individual records (`inference.noise`): its log sigmas
    # follow the log kappas at the end of x
    fitted_noise: FittedNoise = eqx.field(default_factory=FittedNoise)

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def n_subjects(self) -> int:
        return int(self.inputs.feeds.start_h.shape[0]) if self.model == "hierarchical" else 1

    @property
    def n_offsets(self) -> int:
        """Non-reference levels of the offset factors."""
        return int(self.offset_design.shape[-1])

    @property
    def model_dim(self) -> int:
        """Entries of x that set the model's parameters: z (group); mu (one per centre), log
        tau, offsets, eta (hierarchical)."""
        if self.model == "group":
            return self.k
        return self.k * (self.n_centres + 1 + self.n_offsets + self.n_subjects)

    @property
    def dim(self) -> int:
        """Length of the unconstrained vector x: `model_dim`, then one log kappa per
        between-study discrepancy (`inference.heterogeneity`), then one log sigma per fitted
        noise scale (`inference.noise`)."""
        return self.model_dim + self.discrepancy.n + self.fitted_noise.n

    def with_values(self, values) -> "FitProblem":
        """The same problem (same shapes: no new compilation) with other observed values."""
        return eqx.tree_at(lambda p: p.rows.value, self, jnp.asarray(values, dtype=float))


@dataclasses.dataclass
class FitData:
    """A `FitProblem` with its host-side tables: rows (one per datum used, in the order of
    `problem.rows`) and excluded (rows not used, with a reason), plus labels for outputs."""

    problem: FitProblem
    rows: pd.DataFrame
    excluded: pd.DataFrame
    species: str = "human"
    label: str = "fit"
    design: dict = dataclasses.field(default_factory=dict)
    subjects: tuple[str, ...] = ()
    # hierarchical: labels of the population centres ("breed=Jersey"; one "all" without
    # factors) and of the offset levels ("parity=2"), and each subject's covariates
    centres: tuple[str, ...] = ("all",)
    offsets: tuple[str, ...] = ()
    covariates: pd.DataFrame | None = None

    def with_values(self, values) -> "FitData":
        rows = self.rows.assign(value=np.asarray(values, dtype=float))
        return dataclasses.replace(self, problem=self.problem.with_values(values), rows=rows)


# --------------------------------------------------------------------------------------
# rows -> feature maps
# --------------------------------------------------------------------------------------

def row_days(t0: float, t1: float) -> list[int]:
    """Whole days d (hours [24 d, 24 d + 24)) that a row's window covers (module doc)."""
    eps = 1e-6
    if abs(t1 - t0) < eps:  # point time: the 24 h ending at t
        return [max(int(math.ceil(t1 / 24.0 - eps)) - 1, 0)]
    first = int(math.ceil(t0 / 24.0 - eps))
    last = int(math.floor(t1 / 24.0 + eps)) - 1
    if last >= first:
        return list(range(first, last + 1))
    # window shorter than a day or misaligned: the days it overlaps
    return list(range(int(math.floor(t0 / 24.0)), int(math.ceil(t1 / 24.0 - eps))))


def map_row(row, inputs: Inputs, readers: Sequence[str]):
    """(feature indices, weights) of one row for one subject's `inputs`, plus (denominator
    indices, weights) for a pooled row (SESSION_POOLED over several sessions), or the
    reason the row cannot be used (a str)."""
    o = ob.BY_DATA_NAME.get(row.observable)
    if o is None or o.reader not in readers:
        return f"{row.observable}: no mapping from the model's outputs in the fit problem"
    horizon = inputs.horizon_h
    n_days = int(round(horizon / 24.0))
    starts = np.asarray(inputs.feeds.start_h)
    n_sessions, n_glands = starts.shape[-1], inputs.n_glands
    off = feature_offsets(n_days, n_sessions, n_glands)
    if o.reader == ob.PARAM:
        return np.array([off[ob.PARAM] + FIT_PARAMS.index(o)]), np.ones(1)
    if o.reader == ob.EVENT:
        if horizon < 24.0 * (EVENT_REFERENCE_DAY + 1):
            return (f"event times need the reference day {EVENT_REFERENCE_DAY} inside the "
                    f"horizon ({24 * (EVENT_REFERENCE_DAY + 1):g} h)")
        return np.array([off[ob.EVENT] + FIT_EVENTS.index(o)]), np.ones(1)
    gland = _gland_code(getattr(row, "gland", -1))
    if gland >= 0:
        if not o.per_gland:
            return f"{row.observable}: no per-gland output (the row names a gland)"
        if gland >= n_glands:
            return f"gland {gland} named, the design simulates {n_glands} glands"
    beyond = f"window beyond the fit horizon ({horizon:g} h)"
    if o.reader == ob.DAILY:
        days = row_days(row.t_start_h, row.t_end_h)
        if 24.0 * (max(days) + 1) > horizon + 1e-6:
            return beyond
        if gland >= 0:  # block (output, day, gland)
            og = ob.OBSERVABLES[o.per_gland]
            base = off[DAILY_GLAND] + FIT_DAILY_GLAND.index(og) * n_days * n_glands
            return base + np.asarray(days) * n_glands + gland, np.full(len(days), 1.0 / len(days))
        base = off[ob.DAILY] + FIT_DAILY.index(o) * n_days
        return base + np.asarray(days), np.full(len(days), 1.0 / len(days))
    if row.t_end_h > horizon:
        return beyond
    block = lambda key: off[ob.SESSION] + SESSION_KEYS.index(key) * n_sessions  # noqa: E731
    base = block(o.source_key)
    if gland >= 0:  # block (output, session, gland)
        og = ob.OBSERVABLES[o.per_gland]
        base = off[SESSION_GLAND] + SESSION_GLAND_KEYS.index(og.source_key) * n_sessions * n_glands + gland
        block = None  # per-gland rows are sums over sessions (SESSION_SUM), never pooled
    point = abs(row.t_end_h - row.t_start_h) < 1e-6
    pooled = o.reader == ob.SESSION_POOLED and row.t_end_h - row.t_start_h >= POOLED_MIN_WINDOW_H - 1e-6
    summed = o.reader == ob.SESSION_SUM and not point
    if o.reader == ob.SESSION_RATE or pooled or summed:
        idx = np.flatnonzero((starts >= row.t_start_h - 1e-6) & (starts < row.t_end_h))
        if idx.size == 0:
            return f"{row.observable}: no {'feed' if summed else 'milking'} session starting in the window"
        if idx.size > MAX_SESSIONS_PER_ROW:
            return f"{row.observable}: window holds > {MAX_SESSIONS_PER_ROW} sessions"
        stride = n_glands if gland >= 0 else 1
        if pooled:  # sum c y / sum y over the window's sessions
            ones = np.ones(idx.size)
            return block(o.weighted_key) + idx, ones, block(o.weight) + idx, ones
        if summed:
            return base + idx * stride, np.ones(idx.size)
        return base + idx, np.full(idx.size, 24.0 / (row.t_end_h - row.t_start_h))
    j = int(np.argmin(np.abs(starts - row.t_end_h)))
    if abs(starts[j] - row.t_end_h) > SESSION_TOLERANCE_H:
        kind = "feed" if o.reader == ob.SESSION_SUM else "milking"
        return f"{row.observable}: no {kind} session within {SESSION_TOLERANCE_H:g} h of the record"
    return np.array([base + j * (n_glands if gland >= 0 else 1)]), np.ones(1)


def _build(table: pd.DataFrame, inputs_of: Sequence[Inputs], subject_of: np.ndarray,
           readers: Sequence[str]):
    """Map every row of `table` (row i belongs to subject subject_of[i]); returns the rows
    used, the rows excluded (with reason), and padded (index, weight) arrays of the
    numerators and of the denominators (all-zero weights: not a pooled row)."""
    n_features = [feature_offsets(int(round(i.horizon_h / 24.0)), i.feeds.start_h.shape[-1], i.n_glands)["end"]
                  for i in inputs_of]
    # a row that a dataset's exclusion rule already keeps out carries its reason (column "reason")
    preset = table["reason"].fillna("").astype(str).to_numpy() if "reason" in table else np.full(len(table), "")
    maps = [p or map_row(row, inputs_of[s], readers)
            for p, row, s in zip(preset, table.itertuples(index=False), subject_of)]
    keep = np.array([not isinstance(m, str) for m in maps], dtype=bool)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    used = [(m[0] + s * n_features[s], m[1], *((m[2] + s * n_features[s], m[3]) if len(m) == 4 else empty))
            for m, s in zip(maps, subject_of) if not isinstance(m, str)]

    def padded(i, j):  # (R, width) arrays of the pairs used[r][i], used[r][j]
        width = max([1] + [u[i].size for u in used])
        index, weight = np.zeros((len(used), width), dtype=np.int32), np.zeros((len(used), width))
        for r, u in enumerate(used):
            index[r, : u[i].size], weight[r, : u[j].size] = u[i], u[j]
        return index, weight

    excluded = table.loc[~keep].copy()
    excluded["reason"] = [m for m in maps if isinstance(m, str)]
    used_rows = table.loc[keep].drop(columns="reason", errors="ignore").reset_index(drop=True)
    return used_rows, excluded.reset_index(drop=True), padded(0, 1), padded(2, 3)


def _row_data(rows: pd.DataFrame, num, den) -> RowData:
    col = lambda name, dtype=float: jnp.asarray(rows[name].to_numpy(dtype=dtype))  # noqa: E731
    return RowData(value=col("value"), scale=col("scale"), sd=col("sd"), kind=col("kind", np.int32),
                   obs_code=col("obs_code", np.int32), index=jnp.asarray(num[0]),
                   weight=jnp.asarray(num[1]), den_index=jnp.asarray(den[0]), den_weight=jnp.asarray(den[1]))


def _readers(rows: pd.DataFrame) -> tuple[str, ...]:
    """The feature blocks the rows read (the per-session readers share one: SESSION; rows
    naming a gland read DAILY_GLAND or SESSION_GLAND)."""
    glands = rows["gland"].map(_gland_code) if "gland" in rows else np.full(len(rows), -1)
    found = set()
    for observable, gland in zip(rows["observable"], glands):
        r = ob.BY_DATA_NAME[observable].reader
        session = r in ob.SESSION_READERS
        found.add((SESSION_GLAND if session else DAILY_GLAND) if gland >= 0 else ob.SESSION if session else r)
    return tuple(sorted(found))


def group_problem(table: pd.DataFrame, names: Sequence[str], prior: PriorSet, base: Params,
                  inputs: Inputs, settings: SolverSettings, noise_sigma=None, species: str = "human",
                  label: str = "fit", design: Mapping | None = None, heterogeneity: str = "none",
                  heterogeneity_scale: float = DEFAULT_SCALE) -> FitData:
    """A group-summary fit: every row of `table` (a `load_rows` / `synthetic_rows` table)
    predicted by one simulated mother. Rows that cannot be mapped go to `excluded`.
    heterogeneity: the between-study discrepancy model of the group-mean rows ("none",
    "pooled", "observable"; `inference.heterogeneity`), with its HalfNormal scale."""
    rows, excluded, num, den = _build(table, [inputs], np.zeros(len(table), dtype=int), ob.READERS)
    disc = (discrepancy(heterogeneity, rows["observable"].to_numpy(dtype=str),
                        lk.is_gaussian(rows["kind"].to_numpy(dtype=int)), heterogeneity_scale)
            if len(rows) else Discrepancy())  # no rows: the caller reports it (adapter)
    problem = FitProblem(
        prior=prior, base=base, inputs=inputs, rows=_row_data(rows, num, den),
        noise=lk.NoiseModel(jnp.asarray(default_noise_sigma() if noise_sigma is None else noise_sigma)),
        tau_scale=jnp.asarray(0.0), names=tuple(names), settings=settings.replace(throw=False),
        model="group", readers=_readers(rows) if len(rows) else (ob.DAILY,), discrepancy=disc)
    return FitData(problem, rows, excluded, species, label, dict(design or {}))


def population_levels(subjects: Sequence[str], covariates: pd.DataFrame | None, levels: Sequence[str]):
    """(centre index (S,), centre labels, offset design (S, O), offset labels) of the
    population factors `levels` (columns of `covariates`, one row per subject): the first
    factor's levels are separate population centres, every further factor's levels other
    than its first (the reference) are offsets (density module doc)."""
    n = len(subjects)
    if not levels:
        return np.zeros(n, dtype=np.int32), ("all",), np.zeros((n, 0)), ()
    if covariates is None:
        raise ValueError(f"population levels {list(levels)} need subject covariates")
    cov = covariates.set_index("subject").reindex(list(subjects))
    for f in levels:
        if f not in cov.columns:
            raise ValueError(f"population level {f!r}: not a subject covariate (expected one of "
                             f"{[c for c in cov.columns if c != 'milkings_per_day']})")
    values = {f: cov[f].fillna("unrecorded").astype(str).to_numpy() for f in levels}
    centre_labels = sorted(set(values[levels[0]]))
    centre_of = np.array([centre_labels.index(v) for v in values[levels[0]]], dtype=np.int32)
    columns, labels = [], []
    for f in levels[1:]:
        for level in sorted(set(values[f]))[1:]:
            columns.append((values[f] == level).astype(float))
            labels.append(f"{f}={level}")
    design = np.stack(columns, axis=1) if columns else np.zeros((n, 0))
    return centre_of, tuple(f"{levels[0]}={c}" for c in centre_labels), design, tuple(labels)


def noise_scale_in_model_units(kind, value, sigma) -> np.ndarray:
    """The noise scale of individual records in their model units, for plots and tables:
    sigma x value for log-scale rows (log-normal, log-Student-t: sigma is the spread of log
    y), sigma itself for Student-t rows."""
    return np.where(np.asarray(kind) == lk.IND_STUDENT_T, 1.0, np.asarray(value, dtype=float)) * sigma


def heavy_tailed_kind(kind: np.ndarray, observable: np.ndarray, heavy_tails: Sequence[str]) -> np.ndarray:
    """`kind` with the log-normal records of the observables in `heavy_tails` made
    log-Student-t (same scale: sd of log y; the noise model's df, 4: tails for outlying
    records). An observable listed that is not log-normal is an error."""
    kind = np.array(kind, dtype=np.int32)
    families = dict(zip(heavy_tails, individual_kind(list(heavy_tails)))) if heavy_tails else {}
    for name, k in families.items():
        if k != lk.IND_LOGNORMAL:
            raise ValueError(f"heavy_tails: {name!r} does not have log-normal records (its records are "
                             f"{lk.KIND_NAMES.get(int(k), 'not individual')}); expected one of the log-normal observables")
    heavy = np.isin(observable, list(families)) & (kind == lk.IND_LOGNORMAL)
    return np.where(heavy, lk.IND_LOG_STUDENT_T, kind).astype(np.int32)


def hierarchical_problem(table: pd.DataFrame, inputs_by_subject: Mapping[str, Inputs],
                         names: Sequence[str], species: str = "cow", fixed: Mapping | None = None,
                         settings: SolverSettings | None = None, tau_scale: float = 0.3,
                         noise_sigma=None, prior: Mapping | None = None, label: str = "cohort",
                         design: Mapping | None = None, covariates: pd.DataFrame | None = None,
                         levels: Sequence[str] = (), offset_scale: float = 0.5, noise: str = "fixed",
                         noise_prior_sd: float = NOISE_PRIOR_SD, heavy_tails: Sequence[str] = ()) -> FitData:
    """A population fit of individual records: `table` has columns subject, observable,
    t_start_h, t_end_h, value (model units), and optionally reason (non-empty: the row is
    kept out of fitting by a dataset exclusion rule and listed in `excluded` with it); each
    subject is simulated with its own inputs (one horizon and gland count for all;
    schedules are padded to one length). Records use the vocabulary's individual
    likelihood with the default noise scales (`noise="fitted"`: one estimated scale per
    observable, log-normal prior of log-SD `noise_prior_sd` around the default;
    `inference.noise`); the records of the observables in `heavy_tails` get log-Student-t
    noise instead of log-normal (`heavy_tailed_kind`). `levels`: population factors, columns
    of `covariates` (subject, breed, parity, ...; `population_levels`)."""
    subjects = list(inputs_by_subject)
    centre_of, centres, offset_design, offsets = population_levels(subjects, covariates, tuple(levels))
    table = table[table["subject"].isin(subjects)].reset_index(drop=True)
    observable = table["observable"].to_numpy(dtype=object)
    code = np.array([CODES.get(o, 0) for o in observable], dtype=np.int32)
    sigma = np.asarray(default_noise_sigma() if noise_sigma is None else noise_sigma)
    kind = heavy_tailed_kind(individual_kind(observable), observable, heavy_tails)
    table = table.assign(
        dataset=table.get("dataset", label), obs_code=code, kind=kind,
        kind_name=[lk.KIND_NAMES.get(int(k), "") for k in kind],
        scale=noise_scale_in_model_units(kind, table["value"].to_numpy(dtype=float), sigma[code]),
        sd=0.0, spread_method="noise model",
        gland=table["gland"].map(GLANDS).fillna(-1).astype(int) if "gland" in table else -1)
    subject_of = pd.Index(subjects).get_indexer(table["subject"])
    inputs = [inputs_by_subject[s] for s in subjects]
    rows, excluded, num, den = _build(table, inputs, subject_of, ob.READERS)
    base = Params.nominal(species, **dict(fixed or {}))
    priors = PriorSet.from_table(names, dict(prior or {}), {n: float(base[n]) for n in names},
                                 species=species)
    # the likelihood reads kind/obs_code/value; scale and sd are unused for individual rows
    data = _row_data(rows.assign(scale=1.0), num, den)
    problem = FitProblem(
        prior=priors, base=base, inputs=stack_inputs(inputs), rows=data,
        noise=lk.NoiseModel(jnp.asarray(sigma)), tau_scale=jnp.asarray(float(tau_scale)),
        centre_of=jnp.asarray(centre_of), offset_design=jnp.asarray(offset_design),
        offset_scale=jnp.asarray(float(offset_scale)), names=tuple(names),
        settings=(settings or SolverSettings.for_species(species, rtol=1e-4, atol=1e-4)).replace(throw=False),
        model="hierarchical", n_centres=len(centres), readers=_readers(rows) if len(rows) else (ob.SESSION,),
        fitted_noise=fitted_noise(noise, rows["obs_code"].to_numpy(), rows["kind"].to_numpy(), noise_prior_sd)
        if len(rows) else fitted_noise("fixed", (), ()))
    return FitData(problem, rows, excluded, species, label, dict(design or {}), tuple(subjects), centres,
                   offsets, None if covariates is None else
                   covariates.set_index("subject").reindex(subjects).reset_index())


# --------------------------------------------------------------------------------------
# data tables and designs
# --------------------------------------------------------------------------------------

def design_inputs(design: Mapping, horizon_days: float) -> Inputs:
    """A mother's schedule: regular feeds (design keys feeds_per_day, n_glands,
    feed_duration_min, both_sides, night_feeds)."""
    feeds = regular_feeds(horizon_days, design["feeds_per_day"], n_glands=design["n_glands"],
                          duration_min=design["feed_duration_min"], both_sides=design["both_sides"],
                          night_feeds=design["night_feeds"])
    return make_inputs(feeds, horizon_days)


def cow_inputs(days: float, clock_h: Sequence[float] = (5.0, 14.5), calving_clock_h: float = 12.0,
               n_glands: int = 4) -> Inputs:
    """Twice-a-day machine milking of all quarters (dataset design conventions)."""
    return make_inputs(milkings(days, clock_times_h=clock_h, n_glands=n_glands,
                                calving_clock_h=calving_clock_h), days)


MILKING_DURATION_MIN = 8.0  # one machine / hand milking of all quarters (inputs.milkings)


def dataset_cow_inputs(name: str, days: float) -> Inputs:
    """`cow_inputs` at a cow dataset's recorded milking design (clock times, calving time,
    glands; lactojax.datasets.design)."""
    return lactation_inputs(name, days)


def milking_design(name: str):
    """A dataset's milking design (`lactojax.datasets.design.design_for`: the recorded one,
    or an imported cow dataset's default), or the default cow design for a name that is no
    dataset (model-generated herds)."""
    from lactojax.datasets.design import default_cow_design, design_for

    try:
        return design_for(name)
    except KeyError:
        return default_cow_design(name, 0.0)


def _milking_clock(design, milkings_per_day: float | None):
    """(clock times, calving clock time, glands) of a design; with `milkings_per_day` (a
    lactation's recorded frequency) that many evenly spaced milkings from the design's
    first clock time."""
    from lactojax.datasets.design import CALVING_CLOCK_H, evenly_spaced_milkings

    clock = tuple(design.milking_clock_h) if design.milking_clock_h else evenly_spaced_milkings(2)
    calving = design.birth_clock_h if design.birth_clock_h is not None else CALVING_CLOCK_H
    glands = design.n_glands or 4
    if milkings_per_day is not None and np.isfinite(milkings_per_day) and round(milkings_per_day) != len(clock):
        clock = evenly_spaced_milkings(int(round(milkings_per_day)), first_clock_h=clock[0])
    return clock, calving, glands


def lactation_inputs(name: str, days: float, milkings_per_day: float | None = None,
                     record_times_h: Sequence[float] = (), design=None) -> Inputs:
    """One lactation's milkings: the dataset's design (clock times, calving clock time,
    quarters; `lactojax.datasets.design`), at the lactation's own frequency when recorded
    (`milkings_per_day`, e.g. subjects.csv), plus a milking at every recorded per-milking
    time (`record_times_h`, hours after calving) that no scheduled milking is within
    `SESSION_TOLERANCE_H` of. Scheduled milkings without a record stay: an unrecorded
    milking still emptied the udder. `design`: the dataset's `milking_design`, when the
    caller already has it (one lookup per dataset, not per lactation)."""
    clock, calving, glands = _milking_clock(design or milking_design(name), milkings_per_day)
    planned = milkings(days, clock_times_h=clock, n_glands=glands, calving_clock_h=calving,
                       duration_min=MILKING_DURATION_MIN)
    starts = np.asarray(planned.start_h)
    times = np.asarray([t for t in record_times_h if 0.0 < t < 24.0 * days], dtype=float)
    extra = np.unique(times[[np.min(np.abs(starts - t), initial=np.inf) > SESSION_TOLERANCE_H for t in times]])
    if extra.size == 0:
        return make_inputs(planned, days)
    all_starts = np.sort(np.concatenate([starts, extra]))
    # a recorded milking closer to a planned one than a milking lasts replaces it
    keep = np.concatenate([[True], np.diff(all_starts) > MILKING_DURATION_MIN / 60.0])
    all_starts = all_starts[keep]
    return make_inputs(feed_schedule(all_starts, np.full(all_starts.size, MILKING_DURATION_MIN / 60.0),
                                     np.ones((all_starts.size, glands)), 1.0, 1.0,
                                     source=f"{name}: milkings"), days)


def open_dataset(entry: str, species: str = "cow"):
    """A `[fit] datasets` entry: a bundled dataset's name (`load_dataset`) or a path to the
    user's own table (`datasets.load_user_dataset`, provenance optional)."""
    from lactojax.datasets import load_user_dataset
    from lactojax.inference.config import is_data_path

    return load_user_dataset(entry, species=species) if is_data_path(entry) else load_dataset(entry)


def dataset_records(name: str, with_excluded: bool = False, species: str = "cow") -> pd.DataFrame:
    """The individual records of a cow dataset (a name or a path, `open_dataset`) with
    `value` in model units: the rows fitting may use, or (with_excluded) every row of its
    table with a column `reason`: "" for a usable row, else the exclusion rule that keeps it
    out (`lactojax.datasets.exclusions`; e.g. a somatic cell count recorded as 0), so the
    fit lists it as excluded."""
    return _records(open_dataset(name, species), with_excluded)


def _records(ds, with_excluded: bool) -> pd.DataFrame:
    """`dataset_records` of an open Dataset."""
    if not with_excluded:
        t = ds.fit_rows()
        return t.assign(value=t["value_model"], dataset=ds.name)
    return ds.table.assign(value=ds.table["value_model"], dataset=ds.name, reason=exclusion_reasons(ds.table))


PER_MILKING = "milk_yield_per_milking"  # records whose times are milkings


def until_day_h(until_day: float) -> float:
    """End of day `until_day` in milk, hours after calving (day d covers [24 d - 12, 24 d + 12))."""
    from lactojax.datasets.design import day_window_h

    return day_window_h(until_day)[1]


def dataset_cohort(datasets: Sequence[str], days: float, max_subjects: int | None = None,
                   subjects: Sequence[str] = (), until_day: float | None = None, species: str = "cow",
                   feed_log: pd.DataFrame | None = None, feed_log_path: str = "feed log"):
    """(records, inputs by subject) of cow datasets' lactations - those named in `subjects`
    (ids, or "<dataset>:<id>"; empty: all), at most `max_subjects` of them (first in the
    data) - named "<dataset>:<id>" (a user's table: its `Dataset.name`), each milked at its
    own design (`lactation_inputs`: the dataset's design at the lactation's recorded
    frequency, plus its recorded milking times), or with `feed_log` (a validated
    `datasets.read_feed_log` table) at the milkings it logs for that lactation (its subject
    column: "<id>" or "<dataset>:<id>"; a lactation the log does not cover up to a day
    before the horizon is an error): the input of `hierarchical_problem`. The records
    include the rows a dataset's exclusion rules keep out of fitting, with their reason
    (they appear in the fit's excluded rows), and with `until_day` the records after that
    day in milk, with the reason "held out" (a forecast is judged on them). A subject asked
    for by name that has no usable record is an error."""
    from lactojax.datasets.subjects import subject_covariates

    tables, inputs = [], {}
    wanted = set(subjects)
    found = set()
    for entry in datasets:
        ds = open_dataset(entry, species)
        name = ds.name
        t = _records(ds, with_excluded=True)
        if until_day is not None:
            late = (t["t_end_h"] > until_day_h(until_day) + 1e-6) & (t["reason"] == "")
            t.loc[late, "reason"] = f"held out: after day {until_day:g} in milk (fit.until_day; forecast)"
        ids = [i for i in pd.unique(t.loc[t["reason"] == "", "subject"].astype(str))
               if not subjects or i in wanted or f"{name}:{i}" in wanted]
        found |= set(ids) | {f"{name}:{i}" for i in ids}
        ids = ids[: max(0, max_subjects - len(inputs))] if max_subjects is not None else ids
        t = t[t["subject"].astype(str).isin(ids)]
        tables.append(t.assign(subject=name + ":" + t["subject"].astype(str)))
        per_day = subject_covariates(ds).set_index("subject")["milkings_per_day"]
        times = t.loc[t["observable"] == PER_MILKING].groupby("subject")["t_end_h"].apply(list)
        design = milking_design(name)
        for i in ids:
            label = f"{name}:{i}"
            if feed_log is not None:
                inputs[label] = logged_inputs(feed_log, (i, label), days, feed_log_path, species)
            else:
                inputs[label] = lactation_inputs(name, days, per_day.get(i), times.get(label, ()), design=design)
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"subjects {missing[:5]}{' ...' if len(missing) > 5 else ''}: no usable record in "
                         f"{list(datasets)}" + (f" up to day {until_day:g}" if until_day is not None else ""))
    return pd.concat(tables, ignore_index=True), inputs


def logged_inputs(log: pd.DataFrame, names: Sequence[str], days: float, path: str = "feed log",
                  species: str = "human", n_glands: int | None = None) -> Inputs:
    """The inputs of one subject's sessions in a validated feed log (`datasets.read_feed_log`)
    over `days`: the rows whose subject is any of `names` (a log without subject ids: all
    rows). A log that stops more than a day before the horizon is an error: the simulated
    mother (cow) would stop feeding (being milked) where the record only stopped."""
    from lactojax.datasets import feed_log_schedule

    has_ids = bool((log["subject"].astype(str) != "").any())
    rows = log[log["subject"].astype(str).isin([str(n) for n in names])] if has_ids else log
    if rows.empty:
        raise ValueError(f"{path}: no session of subject {names[0]!r}")
    horizon_h = 24.0 * days
    rows = rows[rows["start_h"] < horizon_h]
    last = float(rows["end_h"].max()) if len(rows) else 0.0
    if last < horizon_h - 24.0:
        raise ValueError(f"{path}: the sessions of subject {names[0]!r} end at {last:.1f} h (day {last / 24:.1f}), "
                         f"more than a day before the horizon of {days:g} days: shorten the horizon or extend the log")
    rows = rows.assign(subject="")  # one subject's rows
    # n_glands None: the count the log was read with (read_feed_log: the species' default)
    return make_inputs(feed_log_schedule(rows, n_glands, species=species, source=path), days)


def dataset_covariates(datasets: Sequence[str], subjects: Sequence[str], species: str = "cow") -> pd.DataFrame:
    """Covariates (`lactojax.datasets.subjects`) of the subjects "<dataset>:<id>"."""
    from lactojax.datasets.subjects import subject_covariates

    frames = []
    for entry in datasets:
        ds = open_dataset(entry, species)
        frames.append(subject_covariates(ds).assign(subject=lambda c, n=ds.name: n + ":" + c["subject"]))
    cov = pd.concat(frames, ignore_index=True)
    return cov[cov["subject"].isin(list(subjects))].reset_index(drop=True)


def load_rows(datasets: Sequence[str], include_flags: Sequence[str] = (), species: str = "human",
              subject: str = "", with_files: bool = False):
    """The fit tables (`datasets.fit_table`) of group-summary datasets, stacked. An entry
    that is a path (`inference.config.is_data_path`) is the user's own observation table
    (`datasets.load_user_dataset`, provenance optional); its rows are those of `subject`
    (required when it holds several subjects). with_files: also a record per dataset (path,
    sha256, rows, whether a PROVENANCE.md was found) for the fit's provenance.json."""
    from lactojax.inference.config import is_data_path

    frames, files = [], []
    for name in datasets:
        user = is_data_path(name)
        ds = open_dataset(name, species)
        ft = fit_table(ds, tuple(include_flags)).reset_index(names="source_index")
        if user:
            ft = _one_subject(ft, ds, subject)
        ft.insert(0, "dataset", ds.name)
        frames.append(ft)
        files.append(data_file_record(ds))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return (rows, files) if with_files else rows


def data_file_record(ds) -> dict:
    """A fitted dataset's entry in provenance.json: its table's path, sha256 and rows, and
    whether a PROVENANCE.md describes it (a user's own table may have none)."""
    return {"role": "observations", "dataset": ds.name, "path": str(ds.table_path), "sha256": ds.provenance.sha256,
            "rows": int(len(ds.table)),
            "provenance": "PROVENANCE.md" if (ds.path / "PROVENANCE.md").is_file() else "none (user data)"}


def _one_subject(ft: pd.DataFrame, ds, subject: str) -> pd.DataFrame:
    """The rows of one subject of a user's table (all of them when it has one subject)."""
    subjects = ds.table.loc[ft["source_index"], "subject"].astype(str).to_numpy()
    found = sorted(set(subjects))
    if subject:
        if subject not in found:
            raise ValueError(f"{ds.table_path}: no row of subject {subject!r} (the table holds {found})")
        return ft[subjects == subject]
    if len(found) > 1:
        raise ValueError(f"{ds.table_path}: rows of subjects {found}: a group fit is one mother; name her in "
                         "[design] subject (or fit them together with fit.model = \"hierarchical\")")
    return ft


def synthetic_rows(spec: Sequence[tuple[str, float, float]], rel_se: float = 0.05) -> pd.DataFrame:
    """A row table for model-generated data: (observable, t_start_h, t_end_h) per row,
    Gaussian group-mean rows with a placeholder value and scale of 1 (fill them with
    `density.simulate_values`). Labelled dataset 'synthetic'."""
    return pd.DataFrame([
        dict(dataset="synthetic", source_index=i, observable=o, obs_code=CODES[o], statistic="mean",
             kind=lk.GROUP_MEAN, kind_name="group_mean", value=np.nan, scale=1.0, sd=1.0, n=1.0,
             spread_method=f"synthetic: SE = {rel_se:g} x value", t_start_h=float(t0),
             t_end_h=float(t1), gland=-1, subject_label="synthetic")
        for i, (o, t0, t1) in enumerate(spec)])


def __getattr__(name):  # the configuration adapter lives in lactojax.inference.adapter
    if name == "problem_from_config":
        from lactojax.inference.adapter import problem_from_config

        return problem_from_config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# data observable -> (reader, registry output), for listings and tests
OBSERVABLE_MAP: dict[str, tuple[str, str]] = {d: (o.reader, o.name) for d, o in ob.BY_DATA_NAME.items()}

__all__ = ["EVENT_REFERENCE_DAY", "FIT_SESSIONS", "FitData", "FitProblem", "OBSERVABLE_MAP", "POOLED_MIN_WINDOW_H",
           "DAILY_GLAND", "FIT_DAILY_GLAND", "RowData", "SESSION_GLAND", "SESSION_GLAND_KEYS", "cow_inputs", "data_file_record", "dataset_cohort", "dataset_covariates", "dataset_cow_inputs", "dataset_records",
           "logged_inputs",
           "open_dataset",
           "design_inputs", "lactation_inputs", "until_day_h",
           "feature_offsets", "group_problem", "hierarchical_problem", "load_rows", "map_row", "population_levels",
           "row_days", "synthetic_rows"]
