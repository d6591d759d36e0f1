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
from specnb.representations import make_setting
from specnb.store import ResultsStore, attack_key, run_key, transfer_key

SETTINGS = {
    "mfcc": {"repr": "mfcc", "sr": 16000},
    "stft": {"repr": "stft", "n_fft": 512},
    "wavelet": {"repr": "wavelet", "sr": 8000},
}
BUDGETS = [0.0, 0.01, 0.02, 0.05]


class Builder:
    """Writes runs with per-clip results and attacks with per-sample flags."""

    def __init__(self, path: Path, seed: int = 0) -> None:
        self.store = ResultsStore(path)
        self.rng = np.random.default_rng(seed)

    def run(
        self,
        model: str,
        setting: dict[str, Any],
        seed: int,
        p_correct: float,
        *,
        dataset: str = "esc10",
        n_clips: int = 60,
        attacks: dict[str, tuple] = (),
        per_clip: bool = True,
    ) -> str:
        s = make_setting(**setting)
        key = run_key(dataset=dataset, setting=s.to_dict(), model=model, seed=seed, protocol={})
        correct = (self.rng.random((2, n_clips)) < p_correct).astype(int)
        artefacts = {"test_correct": correct.tolist()} if per_clip else {}
        self.store.upsert_run(
            key,
            dataset=dataset,
            repr=s.kind,
            setting_key=s.key,
            setting_json=s.to_dict(),
            model=model,
            seed=seed,
            status="done",
            acc_mean=float(correct.mean()),
            n_params=1000,
            artefacts_json=artefacts,
        )
        for attack, (p_fooled, grads) in dict(attacks).items():
            self.attack(key, attack, p_fooled, grads)
        return key

    def attack(self, key: str, attack: str, p_fooled: float, grads: float, n: int = 30) -> None:
        rises = np.linspace(0.0, 1.0, len(BUDGETS))
        flags = (self.rng.random((len(BUDGETS), n)) < p_fooled * rises[:, None]).astype(int)
        counts = self.rng.poisson(grads, (len(BUDGETS), n))
        self.store.upsert_attack(
            attack_key(run_key=key, attack=attack, params={}),
            run_key=key,
            attack=attack,
            status="done",
            auc=0.5,
            budgets_json=BUDGETS,
            fooling_rates_json=flags.mean(axis=1).tolist(),
            grads_per_sample_json=counts.mean(axis=1).tolist(),
            artefacts_json={
                "misclassified_per_budget": flags.tolist(),
                "grad_counts_per_budget": counts.tolist(),
            },
        )

    def transfer(self, source: str, target: str, ratio: float, n: int = 40) -> None:
        fooled = [n // 2, n]
        both = [int(self.rng.binomial(f, ratio)) for f in fooled]
        self.store.upsert_transfer(
            transfer_key(source_run_key=source, target_run_key=target, attack="fgsm", params={}),
            source_run_key=source,
            target_run_key=target,
            attack="fgsm",
            status="done",
            ratio=float(np.mean([b / f for b, f in zip(both, fooled)])),
            n_samples=n,
            n_fooling_source=sum(fooled),
            n_fooling_both=sum(both),
            params_json={"fooling_source": fooled, "fooling_both": both},
        )


def _verdicts(path: Path, victim: str = "resnet18", **kw: Any) -> dict[str, Any]:
    results = read_results(path)
    tables = build_tables(results, load_paper_results(), victim)
    return {v.key: v for v in claim_verdicts(results, tables, victim=victim, **kw)}


def _representations(tmp_path: Path, accuracy: dict[str, float], seeds=(0, 1, 2)) -> Path:
    b = Builder(tmp_path / "results.sqlite")
    for seed in seeds:
        for name, p in accuracy.items():
            b.run("resnet18", SETTINGS[name], seed, p)
    return b.store.path


@pytest.mark.parametrize(
    "accuracy, expected",
    [
        ({"wavelet": 0.92, "stft": 0.75, "mfcc": 0.55}, "supported"),
        ({"wavelet": 0.55, "stft": 0.75, "mfcc": 0.92}, "contradicted"),
        ({"wavelet": 0.75, "stft": 0.75, "mfcc": 0.75}, "inconclusive"),
    ],
)
def test_representation_ranking_follows_the_truth(tmp_path, accuracy, expected) -> None:
    verdicts = _verdicts(_representations(tmp_path, accuracy))
    assert verdicts["table4_dwt"].ours == expected
    assert verdicts["stft_over_mfcc"].ours == expected
    dwt = verdicts["table4_dwt"]
    assert "95 % interval [" in dwt.estimate and "3 seeds × 60" in dwt.over
    assert "lies above 0" in dwt.rule and dwt.paper == "yes"
    assert not dwt.synthetic


def test_one_seed_is_not_enough_and_says_so(tmp_path) -> None:
    path = _representations(tmp_path, {"wavelet": 0.95, "stft": 0.5, "mfcc": 0.2}, seeds=(0,))
    verdict = _verdicts(path)["table4_dwt"]
    assert verdict.ours == NOT_ENOUGH
    assert "needs ≥ 3 training seeds" in verdict.over and "DWT 1" in verdict.over


def test_runs_without_per_clip_results_are_named(tmp_path) -> None:
    b = Builder(tmp_path / "results.sqlite")
    for seed in range(3):
        b.run("resnet18", SETTINGS["wavelet"], seed, 0.9, per_clip=False)
        b.run("resnet18", SETTINGS["stft"], seed, 0.5)
    verdict = _verdicts(b.store.path)["table4_dwt"]
    assert verdict.ours == NOT_ENOUGH and "3 of 3 runs of DWT lack per-sample" in verdict.over


def _models(tmp_path: Path, accuracy: dict[str, float], grads: dict[str, float]) -> Path:
    b = Builder(tmp_path / "results.sqlite")
    for seed in range(3):
        for model, p in accuracy.items():
            b.run(
                model,
                SETTINGS["stft"],
                seed,
                p,
                attacks={"fgsm": (0.8, grads[model]), "bim-a": (0.8, grads[model])},
            )
    return b.store.path


def test_table6_states_the_papers_claim_whatever_the_victim(tmp_path) -> None:
    # ResNet-18 cheap to attack, SB-CNN costliest: the paper's claim is contradicted, and
    # with SB-CNN as our victim the verdict still speaks of ResNet-18.
    path = _models(
        tmp_path,
        {"resnet18": 0.6, "sbcnn": 0.9, "alexnet": 0.8},
        {"resnet18": 20.0, "sbcnn": 80.0, "alexnet": 40.0},
    )
    verdicts = _verdicts(path, victim="sbcnn")
    cost, accuracy = verdicts["table6_costliest"], verdicts["table6_accuracy"]
    assert cost.claim.startswith("ResNet-18 is the costliest") and cost.paper == "yes"
    assert cost.ours == "contradicted" and "SB-CNN" in cost.over
    assert accuracy.ours == "contradicted"
    path = _models(
        tmp_path / "b",
        {"resnet18": 0.9, "sbcnn": 0.6, "alexnet": 0.5},
        {"resnet18": 80.0, "sbcnn": 20.0, "alexnet": 40.0},
    )
    verdicts = _verdicts(path, victim="sbcnn")
    assert verdicts["table6_costliest"].ours == "supported"
    assert verdicts["table6_accuracy"].ours == "supported"


def test_weak_models_close_together_are_inconclusive(tmp_path) -> None:
    # Notebook 07's case: models at 10-27.5 % on ten classes, a few test clips each.
    b = Builder(tmp_path / "results.sqlite")
    for seed in range(3):
        for model, p in {"resnet18": 0.275, "sbcnn": 0.2, "alexnet": 0.1}.items():
            b.run(model, SETTINGS["stft"], seed, p, n_clips=12)
    assert _verdicts(b.store.path)["table6_accuracy"].ours == "inconclusive"


@pytest.mark.parametrize(
    "cw, expected", [(400.0, "supported"), (10.0, "contradicted"), (100.0, "inconclusive")]
)
def test_cw_costliest_follows_the_gradient_counts(tmp_path, cw, expected) -> None:
    b = Builder(tmp_path / "results.sqlite")
    for seed in range(3):
        b.run(
            "resnet18",
            SETTINGS["stft"],
            seed,
            0.8,
            attacks={"fgsm": (0.5, 100.0), "deepfool": (0.5, 50.0), "cw": (0.5, cw)},
        )
    verdict = _verdicts(b.store.path)["cw_costliest"]
    assert verdict.ours == expected and verdict.paper == "yes"


@pytest.mark.parametrize(
    "mfcc, expected", [(0.2, "supported"), (0.9, "contradicted"), (0.55, "inconclusive")]
)
def test_mfcc_transfers_least_from_the_counts(tmp_path, mfcc, expected) -> None:
    b = Builder(tmp_path / "results.sqlite")
    for seed in range(3):
        for name, ratio in (("mfcc", mfcc), ("stft", 0.55), ("wavelet", 0.6)):
            source = b.run("resnet18", SETTINGS[name], seed, 0.8)
            target = b.run("googlenet", SETTINGS[name], seed, 0.8)
            b.transfer(source, target, ratio)
    verdict = _verdicts(b.store.path)["table9_mfcc"]
    assert verdict.ours == expected and verdict.paper == "yes"


def test_inverse_relation_follows_the_rows(tmp_path) -> None:
    b = Builder(tmp_path / "results.sqlite")
    rows = {256: (0.5, 0.3), 512: (0.7, 0.6), 1024: (0.9, 0.95)}  # AUC rises with accuracy
    for seed in range(3):
        for n_fft, (acc, fooled) in rows.items():
            b.run(
                "resnet18",
                {"repr": "stft", "n_fft": n_fft},
                seed,
                acc,
                attacks={"fgsm": (fooled, 10.0)},
            )
    verdicts = _verdicts(b.store.path)
    assert verdicts["table3_inverse"].ours == "supported"
    assert verdicts["pooled_inverse"].ours == "supported"
    assert verdicts["table2_inverse"].ours == NOT_ENOUGH


def test_synthetic_results_are_marked_and_the_report_shows_the_rule(tmp_path) -> None:
    b = Builder(tmp_path / "results.sqlite")
    for seed in range(3):
        for name, p in {"wavelet": 0.9, "stft": 0.7, "mfcc": 0.5}.items():
            b.run("sbcnn", SETTINGS[name], seed, p, dataset="synthetic-s0-n8")
    report = build_report(b.store.path, victim="sbcnn")
    verdict = next(v for v in report.verdicts if v.key == "table4_dwt")
    assert verdict.synthetic and verdict.ours == "supported"
    html = report.to_html()
    assert "proves the pipeline, not the paper" in html and "95 % interval" in html
    assert "lies above 0" in html


def test_the_store_keeps_what_the_bootstrap_resamples(tmp_path) -> None:
    import torch
    from torch import nn

    from specnb.attack_eval import evaluate_attack, fgsm_grid
    from specnb.attack_eval.run import write_attack
    from specnb.metrics import test_correct

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    x = torch.rand(10, 3, 2, 2)
    y = net(x).argmax(1)
    store = ResultsStore(tmp_path / "results.sqlite")
    key = run_key(dataset="d", setting={"repr": "stft"}, model="m", seed=1, protocol={})
    predictions = np.stack([y.numpy(), np.where(np.arange(10) < 5, y.numpy(), -1)])
    store.upsert_run(
        key,
        dataset="d",
        repr="stft",
        model="m",
        seed=1,
        status="done",
        acc_mean=0.75,
        artefacts_json={"test_correct": test_correct(predictions, y.numpy())},
    )
    evaluation = evaluate_attack(
        net, "fgsm", x, y, budgets=fgsm_grid([0.0, 0.1, 0.3, 0.6]), targeted=False
    )
    write_attack(store, key, evaluation)
    results = read_results(store.path)
    run = results.runs.iloc[0]
    assert run["seed"] == 1 and list(run["clip_correct"]) == [1.0] * 5 + [0.5] * 5
    sample = results.samples.iloc[0]
    assert len(sample["auc_units"]) == 10
    assert sample["auc_units"].mean() == pytest.approx(evaluation.auc)
    assert sample["grads_units"].mean() == pytest.approx(np.mean(evaluation.grads_per_sample))
    # a row written before the per-sample results were stored reads as None
    store.upsert_attack(
        attack_key(run_key=key, attack="bim-a", params={}),
        run_key=key,
        attack="bim-a",
        status="done",
        auc=0.5,
        budgets_json=[0.1, 0.2],
    )
    old = read_results(store.path).samples.set_index("attack").loc["bim_a"]
    assert old["auc_units"] is None and old["grads_units"] is None
