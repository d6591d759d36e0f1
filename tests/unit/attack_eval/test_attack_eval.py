"""Attack evaluation: budget grids, fooling-rate curves, store rows and the gallery."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from specnb.attack_eval import (
    ADVERSARIAL_KEY,
    ATTACK_NAMES,
    BudgetGrid,
    attach_artefacts,
    attack_summary,
    bim_grid,
    bim_steps,
    budget_grid,
    common_samples,
    curves_frame,
    cw_grid,
    deepfool_grid,
    evaluate_attack,
    fgsm_grid,
    find_run,
    fooling_curves_figure,
    jsma_iterations,
    paper_table,
    resolve_run,
    run_attack,
    save_gallery,
)
from specnb.attacks import make_attack, random_targets
from specnb.metrics import auc_score, cost_to_reach, perturbation_norms
from specnb.representations import make_setting
from specnb.store import ResultsStore, StoreError
from specnb.training import TrainingError

pytestmark = pytest.mark.usefixtures("one_thread")

RUN = "toy-run"
STFT = make_setting("stft", sr=8000, n_fft=256)


@pytest.fixture(scope="module")
def toy():
    """A small classifier that separates 4 classes of 3x8x8 images (a bright quadrant each)."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(40) % 4
    images = 0.3 + 0.1 * torch.rand(40, 3, 8, 8, generator=generator)
    for i, k in enumerate(labels.tolist()):
        row, col = divmod(k, 2)
        images[i, :, 4 * row : 4 * row + 4, 4 * col : 4 * col + 4] += 0.4
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.ReLU(), nn.Linear(16, 4))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(60):
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimiser.step()
    model.eval()
    assert bool((model(images).argmax(1) == labels).all())
    return model, images.clamp(0, 1), labels


@pytest.fixture
def store(tmp_path):
    results = ResultsStore(tmp_path / "results.sqlite")
    results.upsert_run(RUN, status="done", dataset="toy", model="mlp")
    return results


@pytest.mark.parametrize(
    "grid",
    [
        fgsm_grid([0.0, 0.02, 0.1, 0.3]),
        bim_grid([0.0, 0.02, 0.1, 0.3], "a"),
        bim_grid([0.0, 0.02, 0.1, 0.3], "b"),
    ],
)
def test_fooling_rate_is_zero_without_budget_and_rises_with_it(toy, grid):
    model, images, labels = toy
    ev = evaluate_attack(model, grid, images, labels, targeted=False, batch_size=16)
    rates = ev.fooling_rates
    assert rates[0] == 0.0
    assert all(b >= a for a, b in zip(rates, rates[1:])), rates
    assert rates[-1] > 0.5
    assert all(int(r.grad_counts.min()) >= 1 for r in ev.results)
    if grid.attack == "fgsm":
        assert ev.grads_per_sample == [1.0] * 4
        assert ev.grads_per_batch == pytest.approx([40 / 3] * 4)  # batches of 16, 16, 8


def test_only_correctly_classified_samples_are_attacked(toy):
    model, images, labels = toy
    wrong = labels.clone()
    wrong[[0, 5, 9]] = (wrong[[0, 5, 9]] + 1) % 4
    ev = evaluate_attack(
        model, "fgsm", images, wrong, budgets=fgsm_grid([0.1]), targeted=False, max_samples=20
    )
    assert (ev.n_samples, ev.n_correct) == (40, 37)
    assert len(ev.indices) == 20 and not set(ev.indices.tolist()) & {0, 5, 9}
    assert ev.clean_accuracy == pytest.approx(37 / 40)
    with pytest.raises(ValueError, match="none of the 40 samples"):
        evaluate_attack(model, "fgsm", images, (labels + 1) % 4, budgets=fgsm_grid([0.1]))


@pytest.mark.parametrize("grid", [deepfool_grid([0, 1, 20]), bim_grid([0.02, 0.1, 0.3], "a")])
def test_grads_per_sample_are_the_attacks_own_counts(toy, grid):
    model, images, labels = toy
    ev = evaluate_attack(model, grid, images, labels, batch_size=7)
    for params, result in zip(grid.points(), ev.results):
        attack = make_attack(grid.attack, model, **params)
        counts, totals = [], []
        for lo in range(0, 40, 7):
            attack(images[lo : lo + 7], labels[lo : lo + 7])
            counts.append(attack.grad_counts)
            totals.append(attack.total_grads)
        assert np.array_equal(result.grad_counts, torch.cat(counts).numpy())
        assert result.grads_per_sample == pytest.approx(torch.cat(counts).double().mean().item())
        assert result.grads_per_batch == pytest.approx(np.mean(totals))
    if grid.attack == "deepfool":
        assert ev.grads_per_sample[0] == 0 < ev.grads_per_sample[1]
    else:  # BIM-a stops each sample at its first success: costs differ between samples
        assert any(len(set(r.grad_counts.tolist())) > 1 for r in ev.results)


def test_targets_are_wrong_labels_reproducible_by_seed(toy):
    model, images, labels = toy
    grid = fgsm_grid([0.05, 0.3])
    first = evaluate_attack(model, grid, images, labels, seed=3, max_samples=30)
    again = evaluate_attack(model, grid, images, labels, seed=3, max_samples=30, batch_size=4)
    other = evaluate_attack(model, grid, images, labels, seed=4, max_samples=30)
    assert first.targeted and first.targets is not None
    assert bool((first.targets != first.labels).all())
    assert torch.equal(first.targets, again.targets)
    assert torch.equal(first.targets, random_targets(first.labels, 4, 3))
    assert not torch.equal(first.targets, other.targets)
    assert first.fooling_rates == again.fooling_rates
    assert first.target_rates == again.target_rates
    hits = (first.adv_pred == first.targets).float().mean().item()
    assert first.target_rates[-1] == pytest.approx(hits)


def test_targeted_attacks_measure_misclassification_and_target_hits(toy, store, tmp_path):
    """The paper's fooling rate is misclassification; target hits are recorded beside it."""
    model, images, labels = toy
    grid = fgsm_grid([0.05, 0.3, 0.6])
    key, ev = run_attack(store, RUN, model, grid, images, labels, tmp_path, seed=3)
    assert ev.targeted and ev.targets is not None
    missed = [float((r.fooled).mean()) for r in ev.results]
    assert ev.fooling_rates == pytest.approx(missed)
    assert ev.fooling_rates[-1] == pytest.approx((ev.adv_pred != ev.labels).float().mean())
    assert ev.target_rates[-1] == pytest.approx((ev.adv_pred == ev.targets).float().mean())
    assert all(t <= f for t, f in zip(ev.target_rates, ev.fooling_rates))
    assert ev.target_rates != ev.fooling_rates  # some land on a class other than the target
    assert torch.equal(ev.fooled, ev.adv_pred != ev.labels)
    row = store.get_attack(key)
    assert row["fooling_rates_json"] == ev.fooling_rates and row["auc"] == ev.auc
    assert row["target_rates_json"] == ev.target_rates and row["target_auc"] == ev.target_auc
    assert row["auc"] == pytest.approx(auc_score(grid.budgets, ev.fooling_rates))
    assert row["target_auc"] == pytest.approx(auc_score(grid.budgets, ev.target_rates))
    summary = attack_summary([ev])
    assert summary.loc["FGSM", "auc"] == ev.auc
    assert summary.loc["FGSM", "target_auc"] == ev.target_auc
    assert summary.loc["FGSM", "target_fr_max"] == ev.target_rates[-1]
    curves = curves_frame([ev])
    assert curves["target_rate"].tolist() == ev.target_rates
    figure = fooling_curves_figure([ev])
    dashed = [line for line in figure.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == ev.target_rates
    untargeted = evaluate_attack(model, grid, images, labels, targeted=False, max_samples=8)
    assert untargeted.target_rates is None and untargeted.target_auc is None
    assert math.isnan(attack_summary([untargeted]).loc["FGSM", "target_auc"])
    plain = fooling_curves_figure([untargeted])
    assert not [line for line in plain.axes[0].lines if line.get_linestyle() == "--"]
    plt.close(figure)
    plt.close(plain)


def test_targeting_the_attack_cannot_do_is_refused(toy):
    model, images, labels = toy
    with pytest.raises(ValueError, match="jsma cannot run untargeted"):
        evaluate_attack(model, "jsma", images, labels, targeted=False)
    with pytest.raises(ValueError, match="budgets is a grid of fgsm"):
        evaluate_attack(model, "cw", images, labels, budgets=fgsm_grid([0.1]))


def test_stored_row_holds_the_curve_and_its_metrics(toy, store, tmp_path):
    model, images, labels = toy
    grid = bim_grid([0.005, 0.05, 0.2], "a")
    key, ev = run_attack(
        store, RUN, model, grid, images, labels, tmp_path, fold=1, max_samples=24, batch_size=10
    )
    row = store.get_attack(key)
    assert (row["status"], row["run_key"], row["fold"], row["attack"]) == ("done", RUN, 1, "bim-a")
    assert row["error"] is None and row["targeted"] == 0 and row["norm"] == "linf"
    assert (row["n_samples"], row["n_correct"]) == (40, 40)
    assert row["budgets_json"] == [0.005, 0.05, 0.2]
    rates, grads = row["fooling_rates_json"], row["grads_per_sample_json"]
    assert all(0 <= r <= 1 for r in rates) and all(g > 0 for g in grads)
    assert row["auc"] == pytest.approx(auc_score(row["budgets_json"], rates))
    cost = cost_to_reach(grads, rates, 0.9)
    assert (
        row["cost_to_fr90"] == pytest.approx(cost)
        if math.isfinite(cost)
        else (row["cost_to_fr90"] is None)
    )
    saved = torch.load(row["artefacts_json"][ADVERSARIAL_KEY], weights_only=True)
    assert torch.equal(saved["adv_images"], ev.adv_images)
    assert torch.equal(saved["indices"], ev.indices) and saved["budget"] == 0.2
    fooled = saved["adv_pred"] != saved["labels"]
    sizes = perturbation_norms(images[saved["indices"]][fooled], saved["adv_images"][fooled])
    assert row["l2_mean"] == pytest.approx(sizes["l2"].mean().item(), rel=1e-5)
    assert row["linf_median"] == pytest.approx(sizes["linf"].median().item(), rel=1e-5)
    assert row["artefacts_json"]["n_attacked"] == 24
    again, _ = run_attack(
        store, RUN, model, grid, images, labels, tmp_path, fold=1, max_samples=24, batch_size=10
    )
    assert again == key and len(store.attacks_df(run_key=RUN)) == 1


def test_failing_attack_is_recorded_failed(toy, store, tmp_path):
    model, images, labels = toy
    with pytest.raises(ValueError, match="norm must be one of"):
        run_attack(store, RUN, model, fgsm_grid([0.1], norm="l3"), images, labels, tmp_path)
    with pytest.raises(ValueError, match="lbfgs cannot run untargeted"):
        run_attack(
            store, RUN, model, budget_grid("lbfgs"), images, labels, tmp_path, targeted=False
        )
    rows = store.attacks_df(run_key=RUN)
    assert sorted(rows["status"]) == ["failed", "failed"]
    errors = dict(zip(rows["attack"], rows["error"]))
    assert "ParameterError: norm must be one of" in errors["fgsm"]
    assert "cannot run untargeted" in errors["lbfgs"]
    with pytest.raises(StoreError, match="refers to a run that is not in the store"):
        run_attack(store, "no-such-run", model, fgsm_grid([0.1]), images, labels, tmp_path)


def test_gallery_curves_and_tables(toy, store, tmp_path):
    model, images, labels = toy
    evaluations, keys = [], []
    for grid in (fgsm_grid([0.01, 0.3]), deepfool_grid([1, 5]), cw_grid([1], [5, 10])):
        key, ev = run_attack(store, RUN, model, grid, images, labels, tmp_path, max_samples=6)
        evaluations.append(ev)
        keys.append(key)
    assert common_samples(evaluations) == list(range(6))
    path = save_gallery(evaluations, images, ["a", "b", "c", "d"], tmp_path / "gallery.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.is_absolute()
    attach_artefacts(store, keys, gallery=str(path))
    for key in keys:
        artefacts = store.get_attack(key)["artefacts_json"]
        assert artefacts["gallery"] == str(path) and ADVERSARIAL_KEY in artefacts
    curves = curves_frame(evaluations)
    assert len(curves) == 6
    assert (
        curves.groupby("attack")["budget_normalised"].agg(["min", "max"]).values.tolist()
        == [[0.0, 1.0]] * 3
    )
    table = paper_table(evaluations, accuracy=0.5)
    assert list(table.columns) == ["Recog. Acc. (%)", "FGSM", "DeepFool", "CWA"]
    assert table.iloc[0, 0] == "50.00"
    auc, grads = table.iloc[0]["DeepFool"].split(", ")
    assert float(auc) == pytest.approx(evaluations[1].auc, abs=1e-4)
    assert float(grads) == pytest.approx(np.mean(evaluations[1].grads_per_sample), abs=0.5)
    summary = attack_summary(evaluations)
    assert summary.loc["CWA", "targeted"] and summary.loc["DeepFool", "norm"] == "l2"


def test_paper_grids_follow_section_4_3_1():
    deepfool = budget_grid("deepfool", "paper")
    assert deepfool.budgets == tuple(float(v) for v in range(100, 1001, 100))
    cw = budget_grid("cw", "paper")
    assert len(cw) == 20 and cw.budgets[0] == 25 and cw.budgets[-1] == 9 * 5000
    assert {tuple(p.values()) for p in cw.points()} >= {(0.0, 1, 25), (0.0, 9, 5000)}
    for name in ("fgsm", "bim-a", "bim-b"):
        assert budget_grid(name, "paper").budgets[0] == 0.001
    assert [bim_steps(e) for e in (0.001, 0.01, 0.05, 0.1)] == [1, 4, 16, 30]
    assert jsma_iterations(0.01) == math.ceil(0.01 * 3 * 128 * 128 / 2)
    assert budget_grid("BIM_a").attack == "bim-a"
    for name in ATTACK_NAMES:
        assert len(budget_grid(name, "quick")) >= 3
    with pytest.raises(ValueError, match="unknown grid"):
        budget_grid("fgsm", "huge")
    with pytest.raises(ValueError, match="strictly increasing"):
        fgsm_grid([0.1, 0.01])
    with pytest.raises(ValueError, match="unknown attack"):
        BudgetGrid("pgd", ("eps",), [0.1], [0.1], "eps")
    grid = cw_grid([1, 3], [10, 30])
    assert BudgetGrid.from_dict(grid.to_dict()) == grid


def test_run_selection_by_filters_and_clear_errors(store, tmp_path):
    setting = {"repr": "stft", "sr": 8000, "n_fft": 256}
    store.upsert_run(
        "stft-run",
        status="done",
        model="sbcnn",
        seed=0,
        setting_key=STFT.key,
        artefacts_json={"job": {"dataset": "synthetic"}},
    )
    assert find_run(store, setting=setting, model="sbcnn", dataset="synthetic") == "stft-run"
    assert find_run(store, setting={**setting, "n_fft": 512}) is None
    assert find_run(store) == "stft-run"
    for fold in (2, 1):  # a study rotating the test fold: one run per fold, newest last
        store.upsert_run(
            f"fold-{fold}",
            status="done",
            model="sbcnn",
            seed=0,
            setting_key=STFT.key,
            artefacts_json={"job": {"dataset": "esc10", "config": {"official_test_fold": fold}}},
        )
    assert find_run(store, dataset="esc10", official_test_fold=2) == "fold-2"
    assert find_run(store, official_test_fold=1) == "fold-1"
    assert find_run(store, dataset="synthetic", official_test_fold=1) is None
    with pytest.raises(TrainingError, match="'OFFICIAL_TEST_FOLD': 4"):
        resolve_run(store, tmp_path, official_test_fold=4, train_if_missing=False)
    with pytest.raises(TrainingError, match="RUN_KEY='nope' is not in the results store"):
        find_run(store, run_key="nope")
    with pytest.raises(TrainingError, match="matches the filters {'MODEL': 'alexnet'}"):
        resolve_run(store, tmp_path, model="alexnet", train_if_missing=False)
