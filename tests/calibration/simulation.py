"""Stores with known truths, written through the store's API, and the report's verdicts on them.

Every repetition writes a fresh results store the way training and attack runs do (finished
runs with ``test_clip_ids`` and per-fold ``test_correct``, attacks with per-sample flags) from a
model whose true differences are known, then asks the report's own code
(:func:`specnb.report.claim_verdicts`) for its verdict. Over repetitions that gives the
interval's coverage, the rate of false decisions at a true difference of 0 and the power.

The generative model of a run's test results
--------------------------------------------
* Each training seed draws its own split: ``n_clips`` test clips out of the dataset's clips;
  the groups compared share it (same seed, same dataset: same clips).
* Each group's expected accuracy at a seed is its true accuracy plus a shared split effect
  (``sd_split`` points, the same for every group of the seed: an easy or hard split) plus its
  own training noise (``sd_train`` points per group and seed).
* Every fold model's outcome on a clip comes from a uniform draw: correct when it falls below
  the expected accuracy. The fold models of a run reuse the clip's draw with probability
  ``fold_agreement`` (they mostly agree on a clip). Each group takes a clip's fold draws from
  a draw shared by the seed's groups with probability ``rho``, else from its own: ``rho`` is
  the correlation of the groups' per-clip values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from store_builder import StoreBuilder

from specnb.report import build_tables, claim_verdicts, load_paper_results, read_results

DATASET_CLIPS = {"esc10": 400, "esc50": 2000}
CLASSES = {"esc10": 10, "esc50": 50}
N_FOLDS = 5
DECIDED = ("supported", "contradicted")

_NUMBER = r"([+-]?\d+(?:\.\d+)?)"
_ESTIMATE = re.compile(rf"= {_NUMBER}\S*, 95 % interval \[{_NUMBER}\S*, {_NUMBER}\S*\]")


@dataclass(frozen=True)
class Outcome:
    """One verdict: its word and our statistic with its interval (NaN when not decided)."""

    ours: str
    value: float
    low: float
    high: float

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high


def outcome(path: Path, key: str, tables: Optional[dict] = None) -> tuple[Outcome, dict]:
    """The report's verdict on claim ``key`` of the store at ``path``, and the tables it read
    the paper's answer from (pass them back in: the paper's side is the same for every store of
    a case, and building it is most of the time a verdict takes)."""
    results = read_results(path)
    if tables is None:
        tables = build_tables(results, load_paper_results(), "resnet18")
    (verdict,) = claim_verdicts(results, tables, keys=[key])
    found = _ESTIMATE.search(verdict.estimate)
    if not found:
        return Outcome(verdict.ours, np.nan, np.nan, np.nan), tables
    value, low, high = (float(x) for x in found.groups())
    return Outcome(verdict.ours, value, low, high), tables


# ------------------------------------------------------------------ runs with known truths
def fold_draws(rng: np.random.Generator, n_clips: int, fold_agreement: float) -> np.ndarray:
    """Uniform draws per fold model and clip, shape (N_FOLDS, n_clips): each fold reuses the
    clip's draw with probability ``fold_agreement``."""
    clip = rng.random(n_clips)
    own = rng.random((N_FOLDS, n_clips))
    return np.where(rng.random((N_FOLDS, n_clips)) < fold_agreement, clip[None, :], own)


def write_run(
    builder: StoreBuilder,
    model: str,
    setting: dict,
    seed: int,
    dataset: str,
    clip_ids: list[str],
    correct: np.ndarray,
) -> str:
    """A finished run with what training writes: its test clips and per-fold outcomes."""
    classes = [f"c{i}" for i in range(CLASSES.get(dataset, 10))]
    return builder.scored_run(
        model,
        setting,
        correct,
        dataset=dataset,
        seed=seed,
        clip_ids=clip_ids,
        artefacts={"classes": classes},
    )


@dataclass(frozen=True)
class Group:
    """A group of a simulated claim: its model and setting and its true accuracy (0–1) per
    dataset it is run on."""

    model: str
    setting: dict
    accuracy: dict[str, float]


@dataclass(frozen=True)
class Case:
    """One simulated comparison: its groups, the seeds and clips, the noise, the truth."""

    name: str
    key: str
    groups: tuple[Group, ...]
    truth: float
    n_seeds: int = 3
    n_clips: int = 120
    rho: float = 0.8
    sd_split: float = 3.0
    sd_train: float = 0.5
    fold_agreement: float = 0.8
    expected: Optional[str] = None  # the right decision when the truth is not 0
    extra: Optional[Callable[[StoreBuilder, np.random.Generator, int], None]] = field(
        default=None, compare=False
    )


def write_case(case: Case, path: Path, seed: int) -> Path:
    """One repetition of ``case``: its store at ``path``."""
    rng = np.random.default_rng(seed)
    builder = StoreBuilder(path, seed)
    datasets = sorted({d for g in case.groups for d in g.accuracy})
    for s in range(case.n_seeds):
        for dataset in datasets:
            chosen = rng.choice(DATASET_CLIPS[dataset], case.n_clips, replace=False)
            clip_ids = [f"{dataset}-{c}" for c in chosen]
            split = rng.normal(0.0, case.sd_split / 100.0)
            shared = fold_draws(rng, case.n_clips, case.fold_agreement)
            for group in case.groups:
                if dataset not in group.accuracy:
                    continue
                own = fold_draws(rng, case.n_clips, case.fold_agreement)
                draws = np.where(rng.random(case.n_clips) < case.rho, shared, own)
                expected = group.accuracy[dataset] + split + rng.normal(0, case.sd_train / 100)
                correct = (draws < np.clip(expected, 0.0, 1.0)).astype(int)
                write_run(builder, group.model, group.setting, s, dataset, clip_ids, correct)
        if case.extra is not None:
            case.extra(builder, rng, s)
    return path


@dataclass
class Tally:
    """Coverage, false decisions and power of one case over its repetitions."""

    case: Case
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def coverage(self) -> float:
        decided = [o for o in self.outcomes if np.isfinite(o.low)]
        return float(np.mean([o.covers(self.case.truth) for o in decided])) if decided else np.nan

    @property
    def false_rate(self) -> float:
        """Share decided wrongly: any decision at a true 0, the opposite one otherwise."""
        if self.case.expected is None:
            return float(np.mean([o.ours in DECIDED for o in self.outcomes]))
        wrong = [w for w in DECIDED if w != self.case.expected]
        return float(np.mean([o.ours in wrong for o in self.outcomes]))

    @property
    def power(self) -> float:
        """Share decided rightly (NaN at a true 0)."""
        if self.case.expected is None:
            return np.nan
        return float(np.mean([o.ours == self.case.expected for o in self.outcomes]))

    def row(self) -> str:
        return (
            f"{self.case.name:<58} {self.n:>4} {self.coverage:>8.3f} "
            f"{self.false_rate:>8.3f} {self.power:>7.3f}"
        )


HEADER = f"{'case':<58} {'reps':>4} {'coverage':>8} {'false':>8} {'power':>7}"


def simulate(case: Case, folder: Path, repetitions: int, first_seed: int = 0) -> Tally:
    """``repetitions`` stores of ``case`` under ``folder`` and the report's verdict on each."""
    tally, tables = Tally(case), None
    for r in range(repetitions):
        path = write_case(case, folder / f"{case.name}-{r}" / "results.sqlite", first_seed + r)
        found, tables = outcome(path, case.key, tables)
        tally.outcomes.append(found)
    return tally


# ------------------------------------------------------------------ the cases
STFT = {"repr": "stft", "n_fft": 1024}
MFCC = {"repr": "mfcc", "sr": 16000}


def two_groups(
    diff: float,
    rho: float,
    n_seeds: int,
    n_clips: int = 120,
    sd_train: float = 0.5,
    dataset: str = "esc10",
) -> Case:
    """STFT ``diff`` points more accurate than MFCC (claim ``stft_over_mfcc``)."""
    return Case(
        f"STFT−MFCC {diff:g} pts, rho {rho:g}, {n_seeds} seeds × {n_clips}, train sd {sd_train:g}",
        "stft_over_mfcc",
        (
            Group("resnet18", STFT, {dataset: 0.70 + diff / 100}),
            Group("resnet18", MFCC, {dataset: 0.70}),
        ),
        truth=diff,
        n_seeds=n_seeds,
        n_clips=n_clips,
        rho=rho,
        sd_train=sd_train,
        expected="supported" if diff > 0 else None,
    )


def pooled_datasets() -> Case:
    """STFT 10 points above MFCC on ESC-10; STFT also (alone) on the harder ESC-50; 4 seeds."""
    return Case(
        "pooled datasets: STFT +10 on ESC-10, STFT alone on ESC-50",
        "stft_over_mfcc",
        (
            Group("resnet18", STFT, {"esc10": 0.75, "esc50": 0.45}),
            Group("resnet18", MFCC, {"esc10": 0.65}),
        ),
        truth=10.0,
        n_seeds=4,
        expected="supported",
    )


MODELS = ("resnet18", "sbcnn", "alexnet", "googlenet", "vgg16", "mobilenet", "densenet")


def best_of_k(lead: float, k: int, n_seeds: int = 3) -> Case:
    """ResNet-18 ``lead`` points above ``k - 1`` tied other models (claim table6_accuracy)."""
    groups = tuple(
        Group(m, STFT, {"esc10": 0.70 + (lead / 100 if m == "resnet18" else 0.0)})
        for m in MODELS[:k]
    )
    return Case(
        f"best of {k}: lead {lead:g} pts, {n_seeds} seeds × 120",
        "table6_accuracy",
        groups,
        truth=lead,
        n_seeds=n_seeds,
        expected="supported" if lead > 0 else None,
    )


def accuracy_grid() -> list[Case]:
    """True differences 0, 5 and 10 points; clip correlation 0 and 0.8; 3 and 10 seeds."""
    return [
        two_groups(diff, rho, seeds)
        for seeds in (3, 10)
        for rho in (0.0, 0.8)
        for diff in (0.0, 5.0, 10.0)
    ]


def seed_dominated() -> list[Case]:
    """600 clips, training noise of 4 points per group and seed: seeds carry the variance."""
    return [
        two_groups(0.0, 0.8, seeds, n_clips=600, sd_train=4.0, dataset="esc50") for seeds in (3, 10)
    ]


def training_noise_only() -> Case:
    """600 clips, 6 points of training noise per group and seed and no split effect: nothing
    shared by the groups' seeds widens an unpaired interval, three values carry the variance."""
    case = two_groups(0.0, 0.8, 3, n_clips=600, sd_train=6.0, dataset="esc50")
    return replace(case, name=case.name + ", split sd 0", sd_split=0.0)


def table_cases() -> list[Case]:
    """Every case of the full table, in its order."""
    return [
        *accuracy_grid(),
        two_groups(10.0, 0.8, 4),
        *seed_dominated(),
        pooled_datasets(),
        best_of_k(0.0, 7),
        best_of_k(5.0, 6),
        best_of_k(5.0, 6, n_seeds=10),
        training_noise_only(),
    ]
