"""A results store whose truth is known, written through the store API, for the report's page.

It holds what the main job's sweep (``sweeps/quick.yaml``) writes: SB-CNN runs on the embedded
synthetic set for STFT, MFCC and the complex-Morlet scalogram, three training seeds each, every
run with its per-clip results (``test_correct``, as :func:`specnb.runs.run_training_job` stores
them) and four attacks with per-sample flags and gradient counts per budget (as
:func:`specnb.attack_eval.run.write_attack` stores them). The numbers are drawn so that three
claims have a known answer:

* DWT is far more accurate than STFT and MFCC: Table 4's claim is *supported*;
* MFCC is far more accurate than STFT: "STFT beats MFCC" is *contradicted*;
* every attack costs the same number of gradients to a 0.9 fooling rate: "CW is the
  costliest" is *inconclusive*;
* the more accurate a representation, the more easily it is fooled, but three settings rows
  are too few to decide a relation across settings: the pooled inverse relation of Tables
  2–4 and 7 is described, not decided (*not enough results*).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from store_builder import StoreBuilder

from specnb.metrics import auc_score, test_correct
from specnb.representations import make_setting

#: The main job's dataset key (``synthetic``, ``N_PER_CLASS: 8``, seed 0).
DATASET = "synthetic-s0-n8"
MODEL = "sbcnn"
SEEDS = (0, 1, 2)
ATTACKS = ("fgsm", "bim-a", "deepfool", "cw")
BUDGETS = (0.0, 0.005, 0.01, 0.02, 0.05)
N_CLASSES = 10


@dataclass(frozen=True)
class Truth:
    """One representation's setting, the chance a clip is classified correctly, and how
    easily an attacked sample is fooled at the largest budget."""

    setting: dict
    p_correct: float
    p_fooled: float


#: Label (as the report names it) to truth.
TRUTH = {
    "DWT": Truth({"repr": "wavelet", "sr": 8000, "wavelet": "cmor1.5-1.0"}, 0.95, 0.9),
    "MFCC": Truth({"repr": "mfcc", "sr": 16000, "n_mfcc": 40}, 0.7, 0.6),
    "STFT": Truth({"repr": "stft", "sr": 16000, "n_fft": 512}, 0.3, 0.4),
}
#: The claims the store decides, by key of :data:`specnb.report.CLAIMS`, and their answer.
EXPECTED = {
    "table4_dwt": "supported",
    "stft_over_mfcc": "contradicted",
    "cw_costliest": "inconclusive",
}


def write_known_store(
    path: Path, n_clips: int = 40, n_attacked: int = 20, seed: int = 0
) -> dict[str, float]:
    """Write the store of :data:`TRUTH` at ``path``; our accuracy (percent) per setting kind.

    Parameters
    ----------
    path : Path
        The ``results.sqlite`` file to create.
    n_clips : int
        Test clips per run (two fold models each).
    n_attacked : int
        Samples per attack row.
    seed : int
        Seed of the draws.

    Returns
    -------
    dict of str to float
        Per representation kind (``"stft"``...), the mean over seeds of the stored accuracy:
        what the report's accuracy cell must show.
    """
    builder = StoreBuilder(path)
    rng = np.random.default_rng(seed)
    accuracy: dict[str, float] = {}
    for truth in TRUTH.values():
        per_seed = []
        for training_seed in SEEDS:
            labels = rng.integers(0, N_CLASSES, n_clips)
            right = rng.random((2, n_clips)) < truth.p_correct
            predictions = np.where(right, labels, (labels + 1) % N_CLASSES)
            correct = test_correct(predictions, labels)
            key = builder.run(
                MODEL,
                truth.setting,
                dataset=DATASET,
                seed=training_seed,
                acc_mean=float(np.mean(correct)),
                n_params=50_000,
                artefacts_json={"test_correct": correct},
            )
            per_seed.append(100.0 * float(np.mean(correct)))
            for attack in ATTACKS:
                _write_attack(builder, rng, key, attack, truth.p_fooled, n_attacked)
        accuracy[make_setting(**truth.setting).kind] = float(np.mean(per_seed))
    return accuracy


def _write_attack(
    builder: StoreBuilder,
    rng: np.random.Generator,
    run: str,
    attack: str,
    p_fooled: float,
    n_attacked: int,
) -> None:
    """One attack row: fooling grows with the budget; 30 gradients per sample whatever the
    attack, and as many to a 0.9 fooling rate (so no attack is the costliest)."""
    reach = p_fooled * np.asarray(BUDGETS) / max(BUDGETS)
    fooled = (rng.random((len(BUDGETS), n_attacked)) < reach[:, None]).astype(int)
    grads = rng.poisson(30.0, (len(BUDGETS), n_attacked))
    rates = fooled.mean(axis=1)
    builder.attack(
        run,
        attack,
        budgets_json=list(BUDGETS),
        fooling_rates_json=rates.tolist(),
        auc=auc_score(BUDGETS, rates),
        grads_per_sample_json=grads.mean(axis=1).tolist(),
        cost_to_fr90=float(grads.mean()),
        n_samples=n_attacked,
        artefacts_json={
            "misclassified_per_budget": fooled.tolist(),
            "grad_counts_per_budget": grads.tolist(),
        },
    )
