"""scripts/fit_report.py: the README block of a fit's figures comes from its files."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("inference_cli")


def test_block_is_rendered_from_the_fit_files(tiny_nuts_fit, tmp_path):  # noqa: F811
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- BEGIN fit:tiny -->\nold figures\n<!-- END fit:tiny -->\nrest\n")
    keep = tmp_path / "reference"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "fit_report.py"), str(tiny_nuts_fit), "--keep", str(keep),
                    "--readme", str(readme), "--name", "tiny"], check=True, capture_output=True, text=True)
    text = readme.read_text()
    assert text.startswith("intro\n<!-- BEGIN fit:tiny -->\n") and text.endswith("<!-- END fit:tiny -->\nrest\n")
    assert "old figures" not in text
    diag = json.loads((keep / "diagnostics.json").read_text())
    pc = diag["predictive_check"]
    assert f"| {pc['inside_90']} of {pc['rows']} " in text
    assert f"| max R-hat | {diag['max_r_hat']:.4f} |" in text
    for _, r in pd.read_csv(keep / "summary.csv").iterrows():
        assert f"| `{r['parameter']}` | {r['unit']} | {r['mean']:.4g} ({r['sd']:.3g}) | {r['prior_sd']:.3g} |" in text
    # re-rendering from the kept copy gives the same block
    again = tmp_path / "again.md"
    again.write_text("<!-- BEGIN fit:tiny -->\n<!-- END fit:tiny -->\n")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "fit_report.py"), str(keep), "--readme", str(again),
                    "--name", "tiny"], check=True, capture_output=True)
    block = text.split("<!-- BEGIN fit:tiny -->")[1].split("<!-- END")[0]
    assert block.replace(str(tiny_nuts_fit), str(keep)) in again.read_text()
