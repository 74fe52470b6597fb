"""Inputs evaluated at time t: what is being applied to the mother right now."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from lactojax.inputs import Courses, FeedSchedule, Inputs


class Drive(eqx.Module):
    suckling: jnp.ndarray  # (G,) infant suckling stimulus x effectiveness, 0..1
    pumping: jnp.ndarray  # (G,) pump / machine stimulus x effectiveness, 0..1
    session_active: jnp.ndarray  # 0/1: any removal session under way (conditioned cues)
    dopamine_agonist: jnp.ndarray  # dose level
    dopamine_antagonist: jnp.ndarray  # dose level
    antibiotic: jnp.ndarray  # (G,) efficacy level
    inoculum: jnp.ndarray  # (G,) 1e6 CFU/h entering through a nipple breach
    placenta_retained: jnp.ndarray  # 0/1
    clock_h: jnp.ndarray  # clock time of day, h in [0, 24) (circadian phase)


def _active_session(feeds: FeedSchedule, t):
    """Row index of the session containing t (sessions never overlap) and whether one does."""
    idx = jnp.searchsorted(feeds.start_h, t, side="right") - 1
    safe = jnp.clip(idx, 0, feeds.start_h.shape[0] - 1)
    active = (idx >= 0) & (t < feeds.end_h[safe])
    return safe, active


def _course_level(c: Courses, t) -> jnp.ndarray:
    on = (c.start_h <= t) & (t < c.end_h)
    return jnp.sum(jnp.where(on, c.level, 0.0)[:, None] * c.gland_mask, axis=0)  # (G,)


def clock_time(inputs: Inputs, t) -> jnp.ndarray:
    """Clock time of day (h, 0..24) at time t (h from delivery)."""
    return jnp.mod(t + inputs.profile.delivery_clock_h, 24.0)


def evaluate(inputs: Inputs, t, at=None, session=None) -> Drive:
    """The drive at time t. `at` (default t) is the time at which the piecewise-constant
    inputs (sessions, courses, retained placenta) are read: a fixed-step solver passes the
    middle of its segment, so every stage of a step sees the same inputs. `session` =
    (row, active) skips the search for the session containing `at`."""
    feeds = inputs.feeds
    at = t if at is None else at
    row, active = _active_session(feeds, at) if session is None else session
    stim = jnp.where(active, feeds.effectiveness[row], 0.0) * feeds.gland_mask[row]
    pump = feeds.is_pump[row]
    profile = inputs.profile
    return Drive(
        suckling=stim * (1.0 - pump),
        pumping=stim * pump,
        session_active=jnp.where(active, 1.0, 0.0),
        dopamine_agonist=jnp.max(_course_level(inputs.dopamine_agonist, at)),
        dopamine_antagonist=jnp.max(_course_level(inputs.dopamine_antagonist, at)),
        antibiotic=_course_level(inputs.antibiotic, at),
        inoculum=_course_level(inputs.nipple_breach, at),
        placenta_retained=jnp.where(at < profile.placenta_removal_h, 1.0, 0.0),
        clock_h=clock_time(inputs, t),
    )
