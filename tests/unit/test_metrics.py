import math

import numpy as np
import pytest
import torch

from specnb.metrics import (
    accuracy_summary,
    auc_score,
    cost_to_reach,
    fooling_rate,
    perturbation_norms,
    snr_db,
    target_hit_rate,
    transfer_ratio,
)


def test_fooling_rate_counts_only_correct_samples():
    labels = np.array([0, 1, 2, 3])
    clean = np.array([0, 1, 2, 0])  # the last one is already wrong: ignored
    adv = np.array([1, 1, 0, 0])
    assert fooling_rate(adv, labels, clean) == pytest.approx(2 / 3)


def test_target_hit_rate_stands_beside_the_fooling_rate():
    labels = np.array([0, 1, 2])
    clean = labels.copy()
    adv = np.array([1, 2, 2])
    targets = np.array([1, 0, 1])
    assert target_hit_rate(adv, labels, clean, targets) == pytest.approx(1 / 3)
    assert fooling_rate(adv, labels, clean) == pytest.approx(2 / 3)
    clean[0] = 2  # the hit on a sample classified wrongly anyway does not count
    assert target_hit_rate(adv, labels, clean, targets) == pytest.approx(0.0)


def test_fooling_rate_undefined_without_correct_samples():
    assert math.isnan(fooling_rate([1], [0], [2]))


def test_auc_normalises_budget_axis_and_sorts():
    assert auc_score([0.01, 0.1], [1.0, 1.0]) == pytest.approx(1.0)
    assert auc_score([10, 0, 5], [1.0, 0.0, 1.0]) == pytest.approx(0.75)
    # a curve that jumps late scores lower than one that jumps early
    late = auc_score([1, 2, 3, 4], [0, 0, 0, 1])
    early = auc_score([1, 2, 3, 4], [0, 1, 1, 1])
    assert late < early
    assert auc_score([3], [0.4]) == pytest.approx(0.4)


@pytest.mark.parametrize("rates", [[0.1, 1.2], [0.1, float("nan")]])
def test_auc_rejects_bad_rates(rates):
    with pytest.raises(ValueError):
        auc_score([0, 1], rates)


def test_cost_to_reach_scans_in_cost_order():
    assert cost_to_reach([300, 100, 200], [0.95, 0.5, 0.91]) == 200
    assert math.isnan(cost_to_reach([1, 2], [0.1, 0.2]))


def test_perturbation_norms():
    clean = torch.zeros(2, 3, 4, 4)
    adv = clean.clone()
    adv[0, 0, 0, 0] = 0.5
    adv[0, 1, 1, 1] = -0.2
    out = perturbation_norms(clean, adv)
    assert out["l0"].tolist() == [2.0, 0.0]
    assert out["l2"][0] == pytest.approx(math.hypot(0.5, 0.2))
    assert out["linf"].tolist() == pytest.approx([0.5, 0.0])


def test_snr_db():
    x = np.ones(100)
    assert snr_db(x, x * 1.1) == pytest.approx(20.0)
    assert snr_db(x, x) == math.inf


def test_transfer_ratio_and_accuracy_summary():
    ratio = transfer_ratio([True, True, False, True], [True, False, True, True])
    assert ratio == pytest.approx(2 / 3)
    assert math.isnan(transfer_ratio([False], [True]))
    mean, std = accuracy_summary([0.8, 0.9])
    assert (mean, std) == pytest.approx((0.85, 0.05))
