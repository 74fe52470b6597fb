"""The install path (Makefile, pyproject.toml, requirements.lock), without installing anything:
`make` refuses a machine without Python 3.11 / 3.12 with a message naming them, the install
rule adds JAX's CUDA plugin (pinned to the locked jax) only where `nvidia-smi -L` lists a
GPU, and the lock pins every direct dependency inside its pyproject.toml range. Each make run
is a dry run (`-n`) or stops at the interpreter check; a few seconds in all."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="no make on PATH")

# Variables a calling make (`make test`) or the user's shell could pass down and that would
# change what the Makefile under test decides.
_INHERITED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GPU", "PYTHON", "VENV",
              "JAX_CUDA", "UPGRADE")


def _env(path: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED}
    env["PATH"] = path
    return env


def _make(*args, path: str, venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "-C", str(ROOT), *args, f"VENV={venv}"], env=_env(path),
                          capture_output=True, text=True, timeout=120)


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _locked() -> dict[str, str]:
    """{canonical name: version} of the lock's `name==version` lines."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", line)
        if m:
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def _direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(r) for r in reqs]


# ---- (a) no usable interpreter ---------------------------------------------------------------

def _bin_without_python(tmp_path: Path, python3_version: str = "3.9") -> Path:
    """A PATH directory with make, the shell tools the Makefile uses, a `python3` that says it
    is `python3_version`, and a pyenv-style `python3.11` shim whose version is not installed;
    no python3.12 at all."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("make", "sh", "bash", "env", "grep", "sed", "cat", "ls", "mkdir", "rm", "touch",
                 "test", "true", "false", "dirname", "uname", "tr", "head"):
        found = shutil.which(tool)
        if found:
            (bin_ / tool).symlink_to(found)
    _script(bin_ / "python3", f'echo "{python3_version}"')
    _script(bin_ / "python3.11", 'echo "pyenv: python3.11: command not found" >&2; exit 127')
    return bin_


@needs_make
@pytest.mark.parametrize("goal", [[], ["fit"], ["test"]])
def test_make_without_python_311_or_312_says_which_it_needs(tmp_path, goal):
    bin_ = _bin_without_python(tmp_path)
    venv = tmp_path / "venv"
    run = _make(*goal, path=str(bin_), venv=venv)
    assert run.returncode != 0, run.stdout + run.stderr
    assert "lactojax needs Python 3.11 or 3.12" in run.stderr
    assert "none of python3.11 / python3.12 / python3 on PATH is one" in run.stderr
    assert f"make PYTHON=/path/to/python3.11 {goal[0] if goal else 'install'}" in run.stderr
    # That message is all: no shell noise (a probe of an empty interpreter name, say).
    assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1, run.stderr
    assert "-m venv" not in run.stdout
    assert not venv.exists()


@needs_make
def test_make_picks_python3_when_it_is_a_supported_version(tmp_path):
    """The control for the test above: the same PATH, but `python3` reports 3.12, is chosen."""
    bin_ = _bin_without_python(tmp_path, python3_version="3.12")
    venv = tmp_path / "venv"
    run = _make("-n", "install", "GPU=0", path=str(bin_), venv=venv)
    assert run.returncode == 0, run.stderr
    assert f"python3 -m venv {venv}" in run.stdout
    assert "needs Python" not in run.stderr


# ---- (b) GPU: the CUDA plugin of the locked jax, only where nvidia-smi lists a GPU -----------

_NVIDIA_SMI = {
    "gpu": 'echo "GPU 0: NVIDIA H200 (UUID: GPU-00000000-0000-0000-0000-000000000000)"',
    "no driver": ('echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA '
                  'driver."; exit 9'),
    "no device": 'echo "No devices were found"; exit 6',
}


def _path_with_nvidia_smi(tmp_path: Path, kind: str | None) -> str:
    """PATH with a fake `nvidia-smi` first (kind None: one that is not found, shadowing a real
    one on a GPU machine)."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    _script(fake / "nvidia-smi", _NVIDIA_SMI[kind] if kind else "exit 127")
    return f"{fake}{os.pathsep}{os.environ['PATH']}"


def _cuda_install_line() -> str:
    jax = _locked()["jax"]
    return f'-m pip install -q -c requirements.lock "jax[cuda12]=={jax}"'


@needs_make
@pytest.mark.parametrize("kind,gpu_arg,expect_cuda", [
    ("gpu", None, True),
    ("no driver", None, False),
    ("no device", None, False),
    (None, None, False),
    (None, "GPU=1", True),
    ("gpu", "GPU=0", False),
])
def test_install_adds_the_locked_cuda_plugin_only_with_a_gpu(tmp_path, kind, gpu_arg, expect_cuda):
    venv = tmp_path / "venv"  # missing, so the whole install is due
    args = ["-n", "install", f"PYTHON={sys.executable}"] + ([gpu_arg] if gpu_arg else [])
    run = _make(*args, path=_path_with_nvidia_smi(tmp_path, kind), venv=venv)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    # The CPU install from the lock happens in every case, first.
    base = [f"{venv}/bin/python -m pip install -q -r requirements.lock",
            f"{venv}/bin/python -m pip install -q --no-deps -e ."]
    assert all(line in out for line in base), out
    assert (_cuda_install_line() in out) is expect_cuda, out
    assert ("jax[cuda" in out) is expect_cuda, out
    if expect_cuda:
        assert out.index(base[1]) < out.index(_cuda_install_line())
        why = "nvidia-smi -L lists an NVIDIA GPU" if kind == "gpu" else "GPU=1"
        assert why in out and "JAX then runs on the GPU" in out
    assert not venv.exists()


@needs_make
def test_make_fit_on_a_gpu_machine_installs_the_plugin_first(tmp_path):
    venv = tmp_path / "venv"
    run = _make("-n", "fit", f"PYTHON={sys.executable}", path=_path_with_nvidia_smi(tmp_path, "gpu"),
                venv=venv)
    assert run.returncode == 0, run.stderr
    assert run.stdout.index(_cuda_install_line()) < run.stdout.index("/bin/lactojax fit ")


@needs_make
def test_install_gpu_alias_installs_the_plugin_without_a_gpu(tmp_path):
    run = _make("-n", "install-gpu", f"PYTHON={sys.executable}", path=_path_with_nvidia_smi(tmp_path, None),
                venv=tmp_path / "venv")
    assert run.returncode == 0, run.stderr
    assert _cuda_install_line() in run.stdout


@needs_make
@pytest.mark.parametrize("newer", [None, "requirements.lock", "pyproject.toml"])
def test_the_install_is_redone_when_the_lock_or_pyproject_changes(tmp_path, newer):
    """The stamp depends on requirements.lock and on pyproject.toml: with an up-to-date stamp
    nothing is done, and when either file is newer (`make -W FILE`: as if just edited) the
    install from the lock runs again."""
    venv = tmp_path / "venv"
    venv.mkdir()
    stamp = venv / ".installed-stamp"
    stamp.touch()
    os.utime(stamp, (4_000_000_000, 4_000_000_000))  # newer than any file of the checkout
    what_if = ["-W", newer] if newer else []
    run = _make("-n", *what_if, "install", "GPU=0", f"PYTHON={sys.executable}", path=os.environ["PATH"],
                venv=venv)
    assert run.returncode == 0, run.stderr
    assert ("-r requirements.lock" in run.stdout) is (newer is not None), run.stdout


# ---- (c) the lock against pyproject.toml's ranges --------------------------------------------

def test_lock_pins_every_direct_dependency_inside_its_range():
    pins = _locked()
    reqs = _direct_requirements()
    assert len(reqs) >= 20
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in {LOCK.name}: run `make lock`"
        assert req.specifier.contains(Version(pins[name]), prereleases=True), \
            f"{LOCK.name} pins {req.name}=={pins[name]}, outside pyproject.toml's {req.specifier}: run `make lock`"


def test_pyproject_gives_ranges_not_pins():
    """Installing into an existing environment needs ranges: a lower and an upper bound, no ==."""
    for req in _direct_requirements():
        ops = {spec.operator for spec in req.specifier}
        assert "==" not in ops and "===" not in ops, str(req)
        assert ops & {">=", "~="} and ops & {"<", "~="}, f"{req}: give a lower and an upper bound"


def test_lock_pins_jaxlib_to_the_locked_jax():
    """The CUDA plugin is installed at the locked jax version; jaxlib must be the same one."""
    pins = _locked()
    assert pins["jaxlib"] == pins["jax"]
    # Every line of the lock is a comment, an annotation or an exact pin: nothing floats.
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$", line), line
