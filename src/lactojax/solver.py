"""Typed solver settings with defaults (stiff-capable)."""

from __future__ import annotations

import dataclasses

# diffrax solver class names; diffrax is imported when a solver is made, so that reading the
# settings (the CLI's argument parser) imports no equinox
_SOLVERS = {
    "kvaerno5": "Kvaerno5",
    "kvaerno4": "Kvaerno4",
    "kvaerno3": "Kvaerno3",
    "tsit5": "Tsit5",
    "dopri5": "Dopri5",
}
_ADJOINTS = ("recursive_checkpoint", "forward", "direct")
_METHODS = ("sessions", "adaptive")

# Public name (fit configurations and the CLI validate against it; one source).
METHOD_NAMES: tuple[str, ...] = _METHODS

# Public names (fit configurations and the CLI validate against these; one source).
SOLVER_NAMES: tuple[str, ...] = tuple(_SOLVERS)
ADJOINT_NAMES: tuple[str, ...] = _ADJOINTS


# Session-solver grids that differ from the defaults by species (`SolverSettings.for_species`),
# chosen by the 50-prior-draw check against the adaptive reference at rtol = atol = 1e-8
# (benchmarks/experiments/grid_accuracy.py; README "Why these grid settings"). A 305-day cow
# with 3 session steps, startup steps growing 0.05 h per hour and recovery boundaries at 0.2
# and 1.5 h: 4,322 steps (of 4,948 grid pieces) instead of 5,971 on the default grid, 0 of
# 50 draws off target, largest errors 0.46 % daily / 0.34 % per milking. The later recovery
# boundary leaves one 9-11 h gap to the next milking, cut into 2 equal steps, instead of
# 3 steps when it was 0.5 h (equal steps after 0.5 h: 0.90 % daily). The same grid is not
# accurate enough for a mother (3 session steps: one draw 3.6 % off in colostral-day fat,
# 2.0 % with 4 steps over the startup only; growing startup steps: 10 of 50 off), so it is
# the cow's only.
SPECIES_GRIDS: dict[str, dict] = {"cow": {"session_steps": 3, "startup_step_growth": 0.05, "recovery_h": (0.2, 1.5),
                                          "dense_output": "extension"}}
DENSE_OUTPUTS = ("step", "extension")
GRID_KEYS = ("session_steps", "startup_step_growth", "recovery_h")


@dataclasses.dataclass(frozen=True)
class SolverSettings:
    """How `simulate` integrates. Hashable: a change recompiles, a new parameter value does not.

    method: 'sessions' (default; `lactojax.sessions`: exponential RK4 on a fixed grid of
      steps per removal session and between sessions, the same work for every parameter value
      and batch lane; whole lactations in a fraction of the adaptive cost, within 0.05 % of
      the reference per session at the nominal parameters and 0.34 % over 50 prior draws, see
      README "Whole lactations") or 'adaptive' (the detailed
      reference: diffrax, adaptive steps to rtol/atol, never stepping over a session
      boundary; force it with method='adaptive' or `--solver-method adaptive`). 'sessions'
      uses only the settings marked (method='sessions'), save_every_h and adjoint, and has no
      step budget (success means every state stayed finite). Its reverse mode is its own
      VJP (a reverse scan that recomputes and transposes each step: reverse only, like
      diffrax's checkpointed adjoint); with adjoint='forward' JAX differentiates its scan
      itself, so that forward mode (jacfwd) works too.
    session_steps, session_growth: steps per removal session, each session_growth times as
      long as the one before (method='sessions'). Sessions are where the state changes
      fastest, most at their start (milk ejection, the infant's first minutes of intake):
      over 50 prior draws of a 365-day mother, 3 equal steps leave 5 of 50 draws more than
      2 % off per feed, 3 steps growing 1.5x none (max 0.7 %; README "Whole lactations").
      With the whole-lactation physiology (fat leaves with the gland's emptying)
      3 growing steps put one draw 3.6 % off in colostral-day fat; 4 keep all within 0.5 %.
    max_step_h: longest step between sessions, hours (method='sessions'). 6 h: with the whole-lactation
      physiology (cow quarters' paracellular exchange) 12-h steps put 3 of 50
      prior draws of a 305-day cow 1.0-1.8 % off in daily milk sodium; 6-h steps 0.5 % at
      most on those draws.
    recovery_h: extra step boundaries this long after each session's end (method='sessions'):
      short steps while oxytocin, dopamine tone and prolactin relax after a session (without
      them, milk composition is off by ~2 % after 12-h milking intervals). Two, at 0.15 and
      0.5 h: the cow's milking prolactin release (fold 150 under full dopamine relief, with the
      whole-lactation physiology) after a fast dopamine recovery is too sharp for one 0.5-h
      step (1.1 % in daily citrate on one of 50 cow draws; 0.2 % with the extra boundary).
    startup_h, startup_step_h, startup_step_growth: steps no longer than startup_step_h +
      startup_step_growth x (hours since delivery) over the first startup_h hours
      (method='sessions'): progesterone withdrawal and the colostral transition (0.5-h steps
      leave day-0 colostrum composition up to 8 % off in prior draws; 0.2-h steps keep all 50
      within 1 %). Growth 0 (default): equal steps; a cow's grid grows them (SPECIES_GRIDS).
    dense_output: how the states at the output times (`save_every_h`) between grid points are
      made (method='sessions'): 'step' (default), one step of the method from the start of
      the piece holding each time, vectorised over the times; 'extension', the method's
      continuous extension (3rd order) from the stage vectors of every step, which the solve
      then stores. The choice is cost, measured (README "Whole lactations"): 'step' spends 4
      vector-field evaluations per output time but stores no stages, so reverse mode reads
      one row per step instead of five (365-day mother, 8,760 hours over 40,616 steps: fit
      gradient 6.4x -> 4.1x its solve, benchmarks/bench_long.py); 'extension' is cheaper
      where output times are many per step (a 305-day cow: 7,321 hours over 4,322 steps,
      solve 88 against 117 ms), so the cow keeps it (SPECIES_GRIDS).

    solver: 'tsit5' (default, explicit 5th order), 'dopri5', or the L-stable implicit,
      stiff-capable 'kvaerno5' / 'kvaerno4' / 'kvaerno3' (Newton root finder). The default is
      explicit because the nominal model is not stiff: its fastest eigenvalue is ~ -10 /h
      (oxytocin clearance), and Tsit5 takes 3-4x fewer steps than Kvaerno5 (measured,
      see README "Solver choice"). Use a Kvaerno solver for extreme parameter draws.
    rtol, atol: error tolerances (relative; absolute in each state's own units).
    save_every_h: spacing of the regular output grid, hours.
    max_steps: step budget; exceeding it is a solver failure.
    adjoint: 'recursive_checkpoint' (reverse mode), 'forward' (forward-mode, best for a few
      parameters: jacfwd), or 'direct' ('sessions': any value but 'forward' is its own VJP).
    throw: raise on solver failure (True) or report it in `Trajectory.success` (False).
    """

    method: str = "sessions"
    solver: str = "tsit5"
    rtol: float = 1e-6
    atol: float = 1e-6
    save_every_h: float = 1.0
    max_steps: int = 100_000
    adjoint: str = "recursive_checkpoint"
    checkpoints: int | None = None
    throw: bool = True
    dt0_h: float = 0.01
    session_steps: int = 4
    session_growth: float = 1.5
    max_step_h: float = 6.0
    recovery_h: tuple = (0.15, 0.5)
    startup_h: float = 96.0
    startup_step_h: float = 0.2
    startup_step_growth: float = 0.0
    dense_output: str = "step"

    def __post_init__(self):
        if self.solver not in _SOLVERS:
            raise ValueError(f"SolverSettings.solver={self.solver!r}; expected one of {sorted(_SOLVERS)}")
        if self.adjoint not in _ADJOINTS:
            raise ValueError(f"SolverSettings.adjoint={self.adjoint!r}; expected one of {_ADJOINTS}")
        if not (0 < self.rtol < 1 and 0 < self.atol):
            raise ValueError(f"SolverSettings tolerances must be positive (rtol={self.rtol}, atol={self.atol})")
        if self.method not in _METHODS:
            raise ValueError(f"SolverSettings.method={self.method!r}; expected one of {_METHODS}")
        if not (isinstance(self.session_steps, int) and self.session_steps >= 1):
            raise ValueError(f"SolverSettings.session_steps={self.session_steps!r}; expected an int >= 1")
        if not self.session_growth > 0:
            raise ValueError(f"SolverSettings.session_growth={self.session_growth!r}; expected > 0")
        if not all(r > 0 for r in self.recovery_h):
            raise ValueError(f"SolverSettings.recovery_h={self.recovery_h!r}; expected offsets > 0 hours")
        if not (self.startup_h >= 0 and self.startup_step_h > 0):
            raise ValueError(f"SolverSettings.startup_h={self.startup_h!r}, startup_step_h="
                             f"{self.startup_step_h!r}; expected >= 0 and > 0 hours")
        if not self.startup_step_growth >= 0:
            raise ValueError(f"SolverSettings.startup_step_growth={self.startup_step_growth!r}; expected >= 0 (h per h)")
        if self.dense_output not in DENSE_OUTPUTS:
            raise ValueError(f"SolverSettings.dense_output={self.dense_output!r}; expected one of {DENSE_OUTPUTS}")
        if not self.max_step_h > 0:
            raise ValueError(f"SolverSettings.max_step_h={self.max_step_h!r}; expected > 0 hours")
        if self.save_every_h <= 0:
            raise ValueError("SolverSettings.save_every_h must be > 0")

    @classmethod
    def for_species(cls, species: str | None, **changes) -> "SolverSettings":
        """The default settings with the species' session grid (SPECIES_GRIDS; the defaults
        for any other species), then `changes`."""
        return cls(**{**SPECIES_GRIDS.get(species or "", {}), **changes})

    def make_solver(self):
        import diffrax
        import optimistix as optx

        cls = getattr(diffrax, _SOLVERS[self.solver])
        if self.solver.startswith("kvaerno"):
            # Newton (re-evaluated Jacobian) converges where the default chord iteration
            # stalls on this model (measured: ~2x fewer steps).
            return cls(root_finder=optx.Newton(rtol=self.rtol, atol=self.atol))
        return cls()

    def make_adjoint(self):
        import diffrax

        if self.adjoint == "forward":
            return diffrax.ForwardMode()
        if self.adjoint == "direct":
            return diffrax.DirectAdjoint()
        return diffrax.RecursiveCheckpointAdjoint(checkpoints=self.checkpoints)

    def replace(self, **changes) -> "SolverSettings":
        return dataclasses.replace(self, **changes)
