"""Datasets for fitting: tidy, validated observation tables with provenance.

- `load_dataset(name)` -> `Dataset` (validated table in source and model units, the
  PROVENANCE.md record, and the report of rows fitting excludes by rule);
- `list_datasets()` -> names under `data/`;
- `to_arrays(dataset)` -> `ObservationArrays` for `lactojax.likelihoods`;
- `design_for(name)` -> the schedule assumptions of a dataset (`StudyDesign`);
- `DatasetError` (a ValueError) names file, row, column and what was expected;
- `testday.import_testday(path, name)` -> a new dataset from a milk-recording test-day
  table (`lactojax data import-testday`);
- a user's own files: `load_user_dataset(path)` (an observation table, with or without
  PROVENANCE.md), `observation_problems` / `feed_log_problems` (every `Problem` in a
  file), `read_user_observations`, `read_feed_log` and `feed_log_schedule` (a feed log
  as a `FeedSchedule`); `lactojax data validate FILE`.

Modules: schema (columns and validation), units (conversion to model units),
vocabulary (observable names), loader, registry (where datasets live), provenance,
exclusions (rules keeping rows out of likelihoods), design (schedule assumptions),
arrays (to_arrays), testday (importing DHI / ICAR test-day tables), user (a user's
observation tables), feedlog (feed logs). See docs/datasets.md.
"""

from lactojax.datasets.arrays import ObservationArrays, fit_table, subject_names, to_arrays
from lactojax.datasets.design import DESIGNS, StudyDesign, design_for
from lactojax.datasets.exclusions import ExclusionReport
from lactojax.datasets.feedlog import (
    FeedLogError,
    feed_log_problems,
    feed_log_schedule,
    read_feed_log,
)
from lactojax.datasets.loader import (
    Dataset,
    load_dataset,
    read_observations,
    write_dataset,
    write_observations,
)
from lactojax.datasets.provenance import ProvenanceError
from lactojax.datasets.registry import UnknownDatasetError, data_root, list_datasets
from lactojax.datasets.schema import DatasetError, Problem
from lactojax.datasets.user import (
    UserDataError,
    UserDataWarning,
    load_user_dataset,
    observation_problems,
    read_user_observations,
)
from lactojax.datasets.vocabulary import OBSERVABLE_NAMES, OBSERVABLES, VOCABULARY

__all__ = [
    "DESIGNS",
    "Dataset",
    "DatasetError",
    "ExclusionReport",
    "FeedLogError",
    "OBSERVABLES",
    "OBSERVABLE_NAMES",
    "ObservationArrays",
    "Problem",
    "ProvenanceError",
    "StudyDesign",
    "UnknownDatasetError",
    "UserDataError",
    "UserDataWarning",
    "VOCABULARY",
    "data_root",
    "design_for",
    "feed_log_problems",
    "feed_log_schedule",
    "fit_table",
    "list_datasets",
    "load_dataset",
    "load_user_dataset",
    "observation_problems",
    "read_feed_log",
    "read_observations",
    "read_user_observations",
    "subject_names",
    "to_arrays",
    "write_dataset",
    "write_observations",
]
