"""Small CSV files for the table-validation tests (test_datasets, test_user_data)."""

import gzip
from pathlib import Path

import pandas as pd


def write_table(tmp_path: Path, text: str, name: str = "obs.csv") -> Path:
    """`text` written to tmp_path/name (gzip-compressed for a .gz name)."""
    p = tmp_path / name
    if name.endswith(".gz"):
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p.write_text(text)
    return p


def set_cell(text: str, row: int, column: str, value: str) -> str:
    """CSV `text` with one cell replaced (row: the 1-based data row)."""
    df = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    df.loc[row - 1, column] = value
    return df.to_csv(index=False, lineterminator="\n")
