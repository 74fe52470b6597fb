"""fits/analysis.ipynb runs top to bottom on a tiny finished fit (so it cannot rot), and
analyses posterior.nc with arviz (plot_trace, plot_rank, plot_pair, plot_ppc, loo) rather
than showing the PNG files of the fit."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("inference_cli")


def test_analysis_notebook_executes(tiny_nuts_fit, monkeypatch):  # noqa: F811
    out = tiny_nuts_fit
    monkeypatch.setenv("LACTOJAX_FIT_DIR", str(out))
    monkeypatch.setenv("EQX_ON_ERROR", "nan")  # lets the kernel cache compiled code on disk
    monkeypatch.setenv("LACTOJAX_NOTEBOOK_DRAWS", "6")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    root = Path(__file__).resolve().parents[1]
    nb = nbformat.read(root / "fits" / "analysis.ipynb", as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(root)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "fit: tiny_smoke" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 6  # traces, ranks, pairs, plot_ppc, LOO-PIT, scenario
    code = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "Image(" not in code and ".png" not in code  # arviz on posterior.nc, not the fit's PNG files
