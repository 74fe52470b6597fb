"""lactojax.progress: the line it draws, the time-left estimate, and silence off a terminal."""

import io

from lactojax.progress import Progress, format_duration, progress_wanted


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_durations():
    assert format_duration(4.2) == "4 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(7620) == "2 h 07 min"


def test_silent_off_a_terminal(monkeypatch):
    monkeypatch.delenv("LACTOJAX_PROGRESS", raising=False)
    stream = io.StringIO()
    assert not progress_wanted(stream) and progress_wanted(Terminal())
    with Progress(10, "NUTS", stream=stream) as bar:
        bar.update(10)
    assert stream.getvalue() == ""
    monkeypatch.setenv("LACTOJAX_PROGRESS", "1")  # forced, e.g. under tee
    assert progress_wanted(stream)
    monkeypatch.setenv("LACTOJAX_PROGRESS", "0")
    assert not progress_wanted(Terminal())


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def test_line_and_estimate(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("lactojax.progress.time.perf_counter", clock)
    stream = Terminal()
    bar = Progress(5, "sampling", unit="iterations", stream=stream, interval_s=0.0)
    clock.t = 100.0
    bar.update()  # the first unit (compilation) sets the reference: no rate yet
    assert bar.eta_s() is None
    clock.t = 130.0
    bar.update()
    assert bar.eta_s() == 3 * 30.0  # 30 s per unit since the first, 3 units left
    bar.close()
    text = stream.getvalue()
    assert "\rsampling: 1/5 iterations (20 %), 1 min 40 s elapsed, estimating time left" in text
    assert "sampling: 2/5 iterations (40 %), 2 min 10 s elapsed, about 1 min 30 s left" in text
    assert text.endswith("\n")


def test_resumed_work_is_not_speed(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("lactojax.progress.time.perf_counter", clock)
    bar = Progress(100, "NUTS", stream=Terminal(), done=90, enabled=True, interval_s=0.0)
    clock.t = 10.0
    bar.set(91)  # the first unit after resuming: the 90 before it took no time here
    clock.t = 30.0
    bar.set(92)
    assert bar.eta_s() == 8 * 20.0


def test_stages_show_a_note_at_once_and_no_estimate(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("lactojax.progress.time.perf_counter", clock)
    stream = Terminal()
    bar = Progress(3, "simulate", unit="stages", stream=stream, eta=False)  # interval 0.5 s
    bar.set(0, note="solving")
    clock.t = 0.1
    bar.set(1, note="daily table")  # within the interval, but a new stage: drawn
    bar.update(1)  # same stage, within the interval: not drawn
    bar.close()
    lines = [x.rstrip() for x in stream.getvalue().split("\r") if x]
    assert lines == ["simulate: 0/3 stages (0 %), 0 s elapsed: solving",
                     "simulate: 1/3 stages (33 %), 0 s elapsed: daily table",
                     "simulate: 2/3 stages (67 %), 0 s elapsed: daily table"]  # closed early: the stage stays
    done = Progress(1, "x", stream=Terminal(), eta=False)
    done.set(0, note="working")
    done.set(1)
    done.close()
    last = done.stream.getvalue().split("\r")[-1]
    assert last.endswith("\n") and last.rstrip() == "x: 1/1 (100 %), 0 s elapsed"  # the last line: no stage


def test_clear_erases_the_line_and_the_next_update_draws_it():
    stream = Terminal()
    bar = Progress(4, "scenario", unit="runs", stream=stream, enabled=True)
    bar.set(1, note="normal")
    n = len(stream.getvalue())
    bar.clear()
    erased = stream.getvalue()[n:]
    assert erased.strip() == "" and erased.startswith("\r") and erased.endswith("\r") and len(erased) == n + 1
    bar.set(2, note="sheehan")  # drawn at once after the erase, within the interval
    assert stream.getvalue().endswith("sheehan")
    bar.close()


def test_restart_estimate_after_a_compilation(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("lactojax.progress.time.perf_counter", clock)
    bar = Progress(4, "draws", stream=Terminal(), enabled=True, interval_s=0.0)
    clock.t = 60.0  # compiled before the first unit
    bar.restart_estimate()
    clock.t = 70.0
    bar.set(1)  # the first unit counts: 10 s each
    assert bar.eta_s() == 3 * 10.0
