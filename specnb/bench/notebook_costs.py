"""Cost models of the notebooks: the seconds of one sweep point from its parameters.

Each notebook of the chain has a function ``cost(params, unit_costs) -> seconds``
(:data:`NOTEBOOK_COSTS`) over the unit costs measured on this machine's CPU
(:mod:`specnb.bench.unit_costs`): seconds per clip to read and represent audio, per clip and epoch
to train, per forward pass and per input gradient of each architecture, and the gradients
each attack takes per sample on its grids. Training epochs are upper bounds (early stopping
ends folds sooner), and every point is charged for its features (a shared feature cache
computes them once). :func:`register_notebook_costs` puts them in the sweep's cost registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from specnb.bench.unit_costs import CLIP_SECONDS, REFERENCE_SETTINGS, UnitCosts
from specnb.bench.victim_gradients import victims_projection_costs
from specnb.sweep.cost_registry import register_costs

__all__ = [
    "ATTACK_FIGURE_SECONDS",
    "DATASET_CLIPS",
    "FIGURE_SECONDS",
    "LISTEN_SECONDS",
    "NOTEBOOK_COSTS",
    "OFFICIAL_FOLDS",
    "REPORT_SECONDS",
    "TRAINING_FIGURE_SECONDS",
    "CostFunction",
    "architectures_seconds",
    "attacks_seconds",
    "colour_maps_seconds",
    "register_notebook_costs",
    "report_seconds",
    "representations_seconds",
    "split_shares",
    "training_seconds",
    "transferability_seconds",
]

#: Clips of each dataset: (clips, classes, seconds per clip); synthetic clips per class come
#: from ``N_PER_CLASS``.
DATASET_CLIPS: dict[str, tuple[int, int, float]] = {
    "esc10": (400, 10, 5.0),
    "esc50": (2000, 50, 5.0),
    "urbansound8k": (8732, 10, 4.0),
    "synthetic": (0, 10, 5.0),
}

# Fixed seconds of a notebook's figures and exports, beyond its start and its per-clip work,
# and of listening to one adversarial clip: taken from the cell times of the quick sweep's
# executed notebooks on the CPU of the packaged unit costs.

#: Seconds of the report notebook beyond its start (tables, figures, the HTML export).
REPORT_SECONDS = 1.0

#: Seconds of the figures of the representations notebook.
FIGURE_SECONDS = 4.0

#: Seconds of the learning-curve and confusion figures of the training notebook.
TRAINING_FIGURE_SECONDS = 2.0

#: Seconds of the fooling-rate curves and the gallery of the attacks notebook.
ATTACK_FIGURE_SECONDS = 2.5

#: Seconds to turn one adversarial image of one attack back into audio and classify it.
LISTEN_SECONDS = 1.7

#: ``cost(params, unit_costs) -> seconds`` of one point, with the notebook's defaults merged.
CostFunction = Callable[[Mapping[str, Any], UnitCosts], float]

_PITCH_COPIES = 4
_TEST_SIZE = 0.3

#: Official folds of each dataset (the synthetic set has five, as ESC-50).
OFFICIAL_FOLDS: dict[str, int] = {"esc10": 5, "esc50": 5, "urbansound8k": 10, "synthetic": 5}


def _clips(params: Mapping[str, Any]) -> tuple[int, int, float]:
    """Clips, classes and clip duration of the point's dataset."""
    name = str(params.get("DATASET") or "synthetic")
    clips, classes, seconds = DATASET_CLIPS[name]
    if name == "synthetic":
        clips = classes * int(params.get("N_PER_CLASS") or 40)
    return clips, classes, seconds


def split_shares(params: Mapping[str, Any]) -> tuple[float, float, float, int]:
    """Shares of the original clips each fold model trains on, watches as its dev part and
    all of them test on, and the number of fold models: ``TEST_SIZE`` and ``FOLDS``-fold
    cross-validation, or with ``OFFICIAL_TEST_FOLD`` one official fold for testing and
    ``FOLDS`` models, each with one other official fold as its dev part.

    Examples
    --------
    >>> split_shares({"DATASET": "esc10", "FOLDS": 1, "OFFICIAL_TEST_FOLD": 2})
    (0.6, 0.2, 0.2, 1)
    >>> [round(x, 3) for x in split_shares({"FOLDS": 5, "TEST_SIZE": 0.3})[:3]]
    [0.56, 0.14, 0.3]
    """
    folds = max(1, int(params.get("FOLDS") or 1))
    if params.get("OFFICIAL_TEST_FOLD") is not None:
        n = OFFICIAL_FOLDS[str(params.get("DATASET") or "synthetic")]
        return (n - 2) / n, 1 / n, 1 / n, min(folds, n - 1)
    test = float(params.get("TEST_SIZE") or _TEST_SIZE)
    pool = 1 - test
    return pool * max(folds - 1, 1) / folds, pool / folds, test, folds


def _represent(setting: Mapping[str, Any], duration: float, costs: UnitCosts) -> float:
    """Seconds to read one clip and make its image, scaled from the reference setting."""
    kind = str(setting["repr"])
    rate = float(setting.get("sr", REFERENCE_SETTINGS[kind]["sr"]))
    scale = rate / REFERENCE_SETTINGS[kind]["sr"] * duration / CLIP_SECONDS
    return costs.load * duration / CLIP_SECONDS + costs.represent[kind] * scale


def training_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 02: features of every clip (and pitch-shifted copy), then every fold for
    ``EPOCHS`` epochs (an upper bound) with a dev pass per epoch and a test pass per fold;
    the figures."""
    clips, _, duration = _clips(params)
    copies = 1 + _PITCH_COPIES if params.get("AUGMENT") else 1
    features = clips * copies * _represent(params["SETTING"], duration, costs)
    features += clips * (copies - 1) * costs.augment * duration / CLIP_SECONDS
    train_share, dev_share, test_share, folds = split_shares(params)
    epochs = int(params["EPOCHS"])
    train, dev = clips * copies * train_share, clips * copies * dev_share
    model = str(params["MODEL"])
    per_fold = epochs * (train * costs.train[model] + dev * costs.predict[model])
    per_fold += clips * test_share * costs.predict[model]
    return costs.notebook_start + TRAINING_FIGURE_SECONDS + features + folds * per_fold


def _crafting(params: Mapping[str, Any], model: str, costs: UnitCosts) -> float:
    """Seconds of every attack of ``ATTACKS`` over its grid on ``N_SAMPLES`` clips of a model:
    the gradients of the attack runs (one run serves the grid points it reaches on its way,
    :func:`specnb.attack_eval.curve_runs`), each at the attack's measured cost per gradient
    (:attr:`~specnb.bench.unit_costs.UnitCosts.attack_overhead`), and one prediction pass per
    grid point."""
    from specnb.attack_eval.grids import budget_grid

    clips, _, _ = _clips(params)
    test = clips * split_shares(params)[2]
    samples = test if params.get("N_SAMPLES") is None else int(params["N_SAMPLES"])
    grid_name = str(params["GRID"])
    gradients = costs.attack_gradients[grid_name]
    overhead = costs.attack_overhead.get(grid_name, {})
    grids = [budget_grid(a, grid_name) for a in params["ATTACKS"]]
    per_sample = sum(
        gradients[g.attack] * overhead.get(g.attack, 1.0) * costs.gradient[model] for g in grids
    )
    per_sample += sum(len(g) for g in grids) * costs.predict[model]
    return test * costs.predict[model] + samples * per_sample


def attacks_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 03: a prediction pass over the test clips, then every attack over its grid on
    ``N_SAMPLES`` samples: the input gradients the attack takes per sample (counted on trained
    victims, else on :data:`~specnb.bench.unit_costs.ATTACK_MODEL`) times its cost per gradient
    on the model; with ``LISTEN``, ``N_LISTEN`` clips per attack turned back into audio; the
    figures."""
    listened = int(params.get("N_LISTEN") or 1) if params.get("LISTEN") else 0
    fixed = ATTACK_FIGURE_SECONDS + listened * len(params["ATTACKS"]) * LISTEN_SECONDS
    return costs.notebook_start + fixed + _crafting(params, str(params["MODEL"]), costs)


def representations_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 01: every setting of ``SETTINGS`` on the clips shown, and its figures."""
    _, classes, duration = _clips(params)
    shown = classes if params.get("MAX_CLASSES") is None else int(params["MAX_CLASSES"])
    clips = min(shown, classes) * int(params["CLIPS_PER_CLASS"])
    per_clip = sum(_represent(s, duration, costs) for s in params["SETTINGS"])
    return costs.notebook_start + FIGURE_SECONDS + clips * per_clip


def report_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 08: a start and :data:`REPORT_SECONDS`."""
    return costs.notebook_start + REPORT_SECONDS


def transferability_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 04, its runs already trained (the sweep's train step): per representation,
    every attack crafted on every model, then tried on every model (one forward pass per
    budget point, counted as ten)."""
    models = [str(m) for m in params["MODELS"]]
    clips, _, _ = _clips(params)
    test = clips * split_shares(params)[2]
    samples = test if params.get("N_SAMPLES") is None else int(params["N_SAMPLES"])
    tries = 10 * len(params["ATTACKS"]) * samples * sum(costs.predict[m] for m in models)
    per_repr = sum(_crafting(params, m, costs) for m in models) + len(models) * tries
    return costs.notebook_start + FIGURE_SECONDS + len(params["SETTINGS"]) * per_repr


def _variants_seconds(
    params: Mapping[str, Any], jobs: list[dict[str, Any]], costs: UnitCosts
) -> float:
    total = costs.notebook_start + FIGURE_SECONDS
    for job in jobs:
        point = {**params, **job}
        total += training_seconds(point, costs) - costs.notebook_start
        total += _crafting(point, str(point["MODEL"]), costs)
    return total


def colour_maps_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 05: one training and one attack run per colour map of ``COLORMAPS``."""
    jobs = [{"SETTING": {**params["SETTING"], "colormap": c}} for c in params["COLORMAPS"]]
    return _variants_seconds(params, jobs, costs)


def architectures_seconds(params: Mapping[str, Any], costs: UnitCosts) -> float:
    """Notebook 07: one training and one attack run per architecture of ``MODELS``."""
    return _variants_seconds(params, [{"MODEL": m} for m in params["MODELS"]], costs)


#: The cost model of each notebook, by file name; add an entry for a new notebook.
NOTEBOOK_COSTS: dict[str, CostFunction] = {
    "01_representations.ipynb": representations_seconds,
    "02_training.ipynb": training_seconds,
    "03_attacks.ipynb": attacks_seconds,
    "04_transferability.ipynb": transferability_seconds,
    "05_colour_maps.ipynb": colour_maps_seconds,
    "07_architectures.ipynb": architectures_seconds,
    "08_report.ipynb": report_seconds,
}


def register_notebook_costs() -> None:
    """Register :data:`NOTEBOOK_COSTS` and the unit-costs chooser
    (:func:`~specnb.bench.victim_gradients.victims_projection_costs`) with the sweep's
    estimate.

    Examples
    --------
    >>> from specnb.sweep.cost_registry import cost_model
    >>> register_notebook_costs()
    >>> cost_model("02_training.ipynb") is training_seconds
    True
    """
    register_costs(NOTEBOOK_COSTS, victims_projection_costs)
