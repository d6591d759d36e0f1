"""One root for every error; the rules written once: positive ints, device, fooled, best fold."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import specnb
import specnb.errors as errors
from specnb.devices import resolve_device
from specnb.metrics import fooled, hits_target, reaches_goal
from specnb.representations import COLORMAP_FAMILIES, COLORMAPS
from specnb.training import TrainingError, best_fold_index

ERROR_CLASSES = [
    obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, Exception)
]
#: Where each error was raised from before it moved to specnb.errors (still importable there).
RAISED_FROM = {
    "SettingError": "specnb.representations.settings",
    "TrainingError": "specnb.training.config",
    "SweepError": "specnb.sweep.spec",
    "ModelError": "specnb.models",
    "AudioError": "specnb.data.audio",
    "DatasetError": "specnb.data.metadata",
    "SplitError": "specnb.data.splits",
    "DownloadError": "specnb.data.download",
    "ChecksumError": "specnb.data.download",
    "StoreError": "specnb.store.database",
    "UnitCostsError": "specnb.bench.unit_costs",
}


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda e: e.__name__)
def test_every_error_is_a_specnb_error(error):
    assert issubclass(error, specnb.SpecnbError)
    assert error.__name__ in errors.__all__


@pytest.mark.parametrize("name, module", sorted(RAISED_FROM.items()))
def test_errors_keep_their_old_home_and_base(name, module):
    imported = getattr(__import__(module, fromlist=[name]), name)
    assert imported is getattr(errors, name)
    runtime = {"DownloadError", "ChecksumError", "StoreError"}
    builtin = RuntimeError if name in runtime else ValueError
    assert issubclass(imported, builtin)


def test_parameter_error_is_a_value_error():
    assert issubclass(specnb.ParameterError, ValueError)
    with pytest.raises(ValueError, match="n_fft must be a positive integer, got 0"):
        errors.check_positive_int("n_fft", 0)


@pytest.mark.parametrize("value", [0, -3, True, 2.0, "4", None])
def test_positive_int_refuses(value):
    with pytest.raises(TrainingError, match=r"TrainConfig\.epochs must be a positive integer"):
        errors.check_positive_int("TrainConfig.epochs", value, TrainingError)


def test_positive_int_accepts():
    errors.check_positive_int("n", 1)
    errors.check_positive_int("n", 10**9)


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected and resolve_device(None).type == expected
    if not torch.cuda.is_available():
        with pytest.raises(specnb.ParameterError, match="'cuda' but CUDA is not available"):
            resolve_device("cuda")


def test_fooled_means_misclassified_and_target_hits_stand_beside_it():
    pred, labels, targets = [2, 1, 0, 3], [1, 1, 0, 0], [2, 0, 1, 2]
    np.testing.assert_array_equal(fooled(np.array(pred), np.array(labels)), [1, 0, 0, 1])
    got = fooled(torch.tensor(pred), torch.tensor(labels))
    assert got.tolist() == [True, False, False, True]
    # the last sample is fooled (3, not 0) without hitting its target (2)
    assert hits_target(torch.tensor(pred), torch.tensor(targets)).tolist() == [1, 0, 0, 0]
    goal = reaches_goal(np.array(pred), np.array(labels), np.array(targets))
    np.testing.assert_array_equal(goal, [1, 0, 0, 0])
    np.testing.assert_array_equal(reaches_goal(np.array(pred), np.array(labels)), [1, 0, 0, 1])
    assert fooled(3, 1) and not hits_target(3, 2)


def test_best_fold_index_takes_the_first_best():
    assert best_fold_index([0.5, 0.75, 0.75, 0.1]) == 1
    assert best_fold_index(np.array([0.9])) == 0
    with pytest.raises(TrainingError, match="fold_accuracies is empty"):
        best_fold_index([])


def test_colormaps_flatten_the_families_once():
    assert COLORMAPS == tuple(n for names in COLORMAP_FAMILIES.values() for n in names)
    assert len(set(COLORMAPS)) == len(COLORMAPS)
