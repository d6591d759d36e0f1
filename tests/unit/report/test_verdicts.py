"""Verdicts with their uncertainty, on constructed stores whose truth is known.

A clear effect must come out *supported*, a reversed one *contradicted*, noise
*inconclusive*; too few seeds or runs without per-clip results say what is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from specnb.report import (
    NOT_ENOUGH,
    build_report,
    build_tables,
    claim_verdicts,
    load_paper_results,
    read_results,
)

SETTINGS = {
    "mfcc": {"repr": "mfcc", "sr": 16000},
    "stft": {"repr": "stft", "n_fft": 512},
    "wavelet": {"repr": "wavelet", "sr": 8000},
}


def _verdicts(path: Path, victim: str = "resnet18", **kw: Any) -> dict[str, Any]:
    results = read_results(path)
    tables = build_tables(results, load_paper_results(), victim)
    return {v.key: v for v in claim_verdicts(results, tables, victim=victim, **kw)}


def _representations(b: Any, accuracy: dict[str, float], seeds=(0, 1, 2)) -> Path:
    for seed in seeds:
        for name, p in accuracy.items():
            b.sampled_run("resnet18", SETTINGS[name], seed, p)
    return b.path


@pytest.mark.parametrize(
    "accuracy, expected",
    [
        ({"wavelet": 0.92, "stft": 0.75, "mfcc": 0.55}, "supported"),
        ({"wavelet": 0.55, "stft": 0.75, "mfcc": 0.92}, "contradicted"),
        ({"wavelet": 0.75, "stft": 0.75, "mfcc": 0.75}, "inconclusive"),
    ],
)
def test_representation_ranking_follows_the_truth(new_store, accuracy, expected) -> None:
    verdicts = _verdicts(_representations(new_store(), accuracy))
    assert verdicts["table4_dwt"].ours == expected
    assert verdicts["stft_over_mfcc"].ours == expected
    dwt = verdicts["table4_dwt"]
    assert "95 % interval [" in dwt.estimate and "3 seeds × 60" in dwt.over
    assert "t interval" in dwt.rule and "lies above 0" in dwt.rule and dwt.paper == "yes"
    assert (dwt.would_take != "") == (expected == "inconclusive")
    assert not dwt.synthetic


def test_one_seed_is_not_enough_and_says_so(new_store) -> None:
    path = _representations(new_store(), {"wavelet": 0.95, "stft": 0.5, "mfcc": 0.2}, seeds=(0,))
    verdict = _verdicts(path)["table4_dwt"]
    assert verdict.ours == NOT_ENOUGH
    assert "needs ≥ 3 training seeds" in verdict.over and "DWT 1" in verdict.over


def test_groups_compare_only_on_the_seeds_they_share(new_store) -> None:
    # three seeds each, but only seed 2 in common: a paired comparison has one seed
    b = new_store()
    for seed in (0, 1, 2):
        b.sampled_run("resnet18", SETTINGS["stft"], seed, 0.9)
        b.sampled_run("resnet18", SETTINGS["mfcc"], seed + 2, 0.5)
    verdict = _verdicts(b.path)["stft_over_mfcc"]
    assert verdict.ours == NOT_ENOUGH and "shares with each other group" in verdict.over
    assert "MFCC: 1" in verdict.over


def test_runs_without_per_clip_results_are_named(new_store) -> None:
    b = new_store()
    for seed in range(3):
        b.sampled_run("resnet18", SETTINGS["wavelet"], seed, 0.9, per_clip=False)
        b.sampled_run("resnet18", SETTINGS["stft"], seed, 0.5)
    verdict = _verdicts(b.path)["table4_dwt"]
    assert verdict.ours == NOT_ENOUGH and "3 of 3 runs of DWT lack per-sample" in verdict.over


def _models(b: Any, accuracy: dict[str, float], cost: dict[str, float]) -> Path:
    """Runs per model over three seeds; FGSM and BIM-a reach a 0.9 fooling rate at ``cost``
    gradients per sample (within 5 % from seed to seed)."""
    rng = np.random.default_rng(0)
    for seed in range(3):
        for model, p in accuracy.items():
            key = b.sampled_run(model, SETTINGS["stft"], seed, p)
            for attack in ("fgsm", "bim-a"):
                spent = cost[model] * rng.uniform(0.95, 1.05)
                b.summary_attack(key, attack, auc=0.8, grads=spent, cost=spent)
    return b.path


def test_table6_states_the_papers_claim_whatever_the_victim(new_store, tmp_path) -> None:
    # ResNet-18 cheap to attack, SB-CNN costliest: the paper's claim is contradicted, and
    # with SB-CNN as our victim the verdict still speaks of ResNet-18.
    path = _models(
        new_store(),
        {"resnet18": 0.6, "sbcnn": 0.9, "alexnet": 0.8},
        {"resnet18": 20.0, "sbcnn": 80.0, "alexnet": 40.0},
    )
    verdicts = _verdicts(path, victim="sbcnn")
    cost, accuracy = verdicts["table6_costliest"], verdicts["table6_accuracy"]
    assert cost.claim.startswith("ResNet-18 is the costliest") and cost.paper == "yes"
    assert cost.ours == "contradicted" and "SB-CNN" in cost.over
    assert "0.9 fooling rate" in cost.estimate
    assert accuracy.ours == "contradicted"
    path = _models(
        new_store(tmp_path / "b"),
        {"resnet18": 0.9, "sbcnn": 0.6, "alexnet": 0.5},
        {"resnet18": 80.0, "sbcnn": 20.0, "alexnet": 40.0},
    )
    verdicts = _verdicts(path, victim="sbcnn")
    assert verdicts["table6_costliest"].ours == "supported"
    assert verdicts["table6_accuracy"].ours == "supported"


def test_weak_models_close_together_are_inconclusive(new_store) -> None:
    # Notebook 07's case: models at 10-27.5 % on ten classes, a few test clips each.
    b = new_store()
    for seed in range(3):
        for model, p in {"resnet18": 0.275, "sbcnn": 0.2, "alexnet": 0.1}.items():
            b.sampled_run(model, SETTINGS["stft"], seed, p, n_clips=12)
    assert _verdicts(b.path)["table6_accuracy"].ours == "inconclusive"


@pytest.mark.parametrize(
    "cw, spread, expected",
    [(400.0, 0.05, "supported"), (10.0, 0.05, "contradicted"), (110.0, 0.5, "inconclusive")],
)
def test_cw_costliest_compares_costs_at_a_matched_fooling_rate(
    new_store, cw, spread, expected
) -> None:
    # costs to a 0.9 fooling rate: FGSM 100, DeepFool 50, CW ``cw`` (± ``spread`` by seed)
    b, rng = new_store(), np.random.default_rng(1)
    for seed in range(3):
        key = b.sampled_run("resnet18", SETTINGS["stft"], seed, 0.8)
        for attack, cost in (("fgsm", 100.0), ("deepfool", 50.0), ("cw", cw)):
            spent = cost * rng.uniform(1 - spread, 1 + spread)
            # the gradients averaged over the grid would read CW as cheap: they are not used
            b.summary_attack(key, attack, auc=0.8, grads=1.0 if attack == "cw" else spent,
                             cost=spent)  # fmt: skip
    verdict = _verdicts(b.path)["cw_costliest"]
    assert verdict.ours == expected and verdict.paper == "yes"
    if expected == "inconclusive":
        assert "seeds would decide it" in verdict.would_take


def test_models_that_were_not_attacked_neither_count_nor_lack(new_store) -> None:
    # as the ESC-10 study runs it: five test-fold models per seed, those of fold 1 attacked
    b, rng = new_store(), np.random.default_rng(2)
    for seed in range(3):
        for fold in range(1, 6):
            key = b.sampled_run(
                "resnet18", SETTINGS["stft"], seed, 0.8, protocol={"official_test_fold": fold}
            )
            if fold == 1:
                for attack, cost in (("fgsm", 100.0), ("deepfool", 50.0), ("cw", 400.0)):
                    spent = cost * rng.uniform(0.95, 1.05)
                    b.summary_attack(key, attack, auc=0.8, grads=spent, cost=spent)
    verdict = _verdicts(b.path)["cw_costliest"]
    assert verdict.ours == "supported" and "lack" not in verdict.over
    assert "3 seeds" in verdict.over


@pytest.mark.parametrize(
    "mfcc, expected", [(0.2, "supported"), (0.9, "contradicted"), (0.55, "inconclusive")]
)
def test_mfcc_transfers_least_from_the_counts(new_store, mfcc, expected) -> None:
    b = new_store()
    for seed in range(3):
        for name, ratio in (("mfcc", mfcc), ("stft", 0.55), ("wavelet", 0.6)):
            source = b.sampled_run("resnet18", SETTINGS[name], seed, 0.8)
            target = b.sampled_run("googlenet", SETTINGS[name], seed, 0.8)
            b.sampled_transfer(source, target, ratio)
    verdict = _verdicts(b.path)["table9_mfcc"]
    assert verdict.ours == expected and verdict.paper == "yes"


def test_inverse_relation_on_three_rows_is_described_not_decided(new_store) -> None:
    b = new_store()
    rows = {256: (0.5, 0.3), 512: (0.7, 0.6), 1024: (0.9, 0.95)}  # AUC rises with accuracy
    for seed in range(3):
        for n_fft, (acc, fooled) in rows.items():
            b.sampled_run(
                "resnet18",
                {"repr": "stft", "n_fft": n_fft},
                seed,
                acc,
                attacks={"fgsm": (fooled, 10.0)},
            )
    verdicts = _verdicts(b.path)
    inverse = verdicts["table3_inverse"]
    assert inverse.ours == NOT_ENOUGH and inverse.estimate == ""
    assert "≥ 8 settings rows, have 3" in inverse.over and "descriptive" in inverse.reason
    assert "Fisher z" in inverse.rule
    assert verdicts["table2_inverse"].ours == NOT_ENOUGH


def test_synthetic_results_are_marked_and_the_report_shows_the_rule(new_store) -> None:
    b = new_store()
    for seed in range(3):
        for name, p in {"wavelet": 0.9, "stft": 0.7, "mfcc": 0.5}.items():
            b.sampled_run("sbcnn", SETTINGS[name], seed, p, dataset="synthetic-s0-n8")
    report = build_report(b.path, victim="sbcnn")
    verdict = next(v for v in report.verdicts if v.key == "table4_dwt")
    assert verdict.synthetic and verdict.ours == "supported"
    html = report.to_html()
    assert "proves the pipeline, not the paper" in html and "95 % interval" in html
    assert "lies above 0" in html


def test_the_store_keeps_what_the_paired_inference_needs(new_store) -> None:
    import torch
    from torch import nn

    from specnb.attack_eval import evaluate_attack, fgsm_grid
    from specnb.attack_eval.run import write_attack
    from specnb.metrics import test_correct

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    x = torch.rand(10, 3, 2, 2)
    y = net(x).argmax(1)
    predictions = np.stack([y.numpy(), np.where(np.arange(10) < 5, y.numpy(), -1)])
    b = new_store()
    key = b.run(
        "m",
        {"repr": "stft"},
        dataset="d",
        seed=1,
        acc_mean=0.75,
        artefacts_json={
            "test_correct": test_correct(predictions, y.numpy()),
            "test_clip_ids": [f"clip-{i}" for i in range(10)],
            "classes": ["a", "b", "c"],
        },
    )
    evaluation = evaluate_attack(
        net, "fgsm", x, y, budgets=fgsm_grid([0.0, 0.1, 0.3, 0.6]), targeted=False
    )
    write_attack(b.store, key, evaluation)
    results = read_results(b.path)
    run = results.runs.iloc[0]
    assert run["seed"] == 1 and list(run["clip_correct"]) == [1.0] * 5 + [0.5] * 5
    assert run["test_clip_ids"][3] == "clip-3" and run["n_classes"] == 3
    sample = results.samples.iloc[0]
    assert len(sample["auc_units"]) == 10
    assert sample["auc_units"].mean() == pytest.approx(evaluation.auc)
    assert sample["grads_units"].mean() == pytest.approx(np.mean(evaluation.grads_per_sample))
    # the attacked samples are named by their test clips: pairs across attacks and runs
    assert sample["sample_ids"] == tuple(f"clip-{i}" for i in evaluation.indices.tolist())
    # a row written before the per-sample results were stored reads as None
    b.attack(
        key,
        "bim-a",
        auc=0.5,
        budgets_json=[0.1, 0.2],
    )
    old = read_results(b.path).samples.set_index("attack").loc["bim_a"]
    assert old["auc_units"] is None and old["grads_units"] is None and old["sample_ids"] is None


def test_a_verdict_names_its_models_and_calls_the_weak_ones_weak(new_store) -> None:
    # ESC-10: the literature's CNN is at about 80 %; a model more than 10 points below is weak
    path = _representations(new_store(), {"wavelet": 0.9, "stft": 0.85, "mfcc": 0.55})
    verdict = _verdicts(path)["stft_over_mfcc"]
    stft, mfcc = sorted(verdict.models.split("; "), key=lambda part: "(MFCC)" in part)
    assert stft.startswith("ResNet-18 on ESC-10 (STFT) 8") and "weak" not in stft, stft
    assert mfcc.startswith("ResNet-18 on ESC-10 (MFCC) 5"), mfcc
    assert mfcc.endswith(": weak, over 10 points below the literature's 80 % on ESC-10"), mfcc
    assert f"Models: {verdict.models}." in verdict.text()


def test_transfer_verdicts_name_source_and_target_models(new_store) -> None:
    b = new_store()
    for seed in range(3):
        for name in ("mfcc", "stft"):
            source = b.sampled_run("resnet18", SETTINGS[name], seed, 0.85)
            target = b.sampled_run("sbcnn", SETTINGS[name], seed, 0.6)
            b.sampled_transfer(source, target, 0.5)
    verdict = _verdicts(b.path)["table9_mfcc"]
    assert "ResNet-18 on ESC-10 (MFCC)" in verdict.models
    assert "weak" in verdict.models.split("SB-CNN on ESC-10 (STFT)")[1].split(";")[0]
    assert "weak" not in verdict.models.split("ResNet-18 on ESC-10 (STFT)")[1].split(";")[0]
