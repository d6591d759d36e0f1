"""How good the models behind a claim are: at chance, weak, or as good as the literature's.

A claim's verdict is only as good as the models whose runs it compares. :func:`at_chance` names
the models whose accuracy interval over seeds reaches chance (the claim is then not comparable);
:func:`strengths` names every model with its mean accuracy and calls weak those more than
:data:`WEAK_MARGIN` points below the literature's level on their dataset
(:data:`LITERATURE_ACCURACY`), so that a verdict built on weak models says so beside itself.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from specnb.report.report_table import DATASET_LABELS, MODEL_LABELS, REPR_LABELS
from specnb.report.uncertainty import t_interval

__all__ = ["LITERATURE_ACCURACY", "WEAK_MARGIN", "at_chance", "strengths"]
#: Test accuracy (percent) of the literature's CNNs trained from scratch on each real dataset:
#: Piczak's CNN (2015) on ESC-10 (about 80 %) and ESC-50 (64.5 %); SB-CNN without augmentation
#: (Salamon & Bello, 2017) on UrbanSound8K (73 %).
LITERATURE_ACCURACY = {"esc10": 80.0, "esc50": 64.5, "urbansound8k": 73.0}
#: A model more than this many points below :data:`LITERATURE_ACCURACY` is called weak.
WEAK_MARGIN = 10.0


def _per_model(runs: pd.DataFrame) -> list[tuple[str, str, np.ndarray, Optional[int]]]:
    """Each dataset, setting and model of ``runs``: its label ("ResNet-18 on ESC-10
    (MFCC)"), dataset, accuracy per seed (percent) and number of classes (None when the
    store does not say)."""
    found = []
    known = runs[runs["seed"].notna()]
    for (dataset, _, model, representation), part in known.groupby(
        ["dataset", "setting_key", "model", "repr"]
    ):
        label = REPR_LABELS.get(representation, representation)
        where = f"{DATASET_LABELS.get(dataset, dataset)} ({label})"
        accuracy = part.groupby("seed")["accuracy"].mean().to_numpy()
        classes = part["n_classes"].dropna()
        found.append(
            (
                f"{MODEL_LABELS.get(model, model)} on {where}",
                str(dataset),
                accuracy,
                int(classes.iloc[0]) if len(classes) else None,
            )
        )
    return found


def at_chance(runs: pd.DataFrame) -> list[str]:
    """Each model and setting of ``runs`` whose accuracy interval over seeds reaches
    chance (100 / classes), said with its numbers.

    Parameters
    ----------
    runs : pd.DataFrame
        Finished runs (:attr:`~specnb.report.results.StoreResults.runs`).

    Returns
    -------
    list of str
        One sentence per model at chance; empty when none is.
    """
    found = []
    for label, _, accuracy, classes in _per_model(runs):
        if classes is None:
            continue
        low, _ = t_interval(accuracy)
        chance = 100.0 / classes
        if accuracy.size >= 2 and low <= chance:
            found.append(
                f"{label} is not above chance: accuracy {accuracy.mean():.1f} %, its 95 % "
                f"interval reaches {chance:.3g} % (100 / {classes} classes)"
            )
    return found


def strengths(runs: pd.DataFrame) -> str:
    """The models of ``runs`` with their mean test accuracy over seeds, each flagged
    "weak" when more than :data:`WEAK_MARGIN` points below the literature's level on its
    dataset (:data:`LITERATURE_ACCURACY`; datasets without one are not judged).

    Parameters
    ----------
    runs : pd.DataFrame
        Finished runs (:attr:`~specnb.report.results.StoreResults.runs`).

    Returns
    -------
    str
        One entry per model and setting, separated by "; "; "" when ``runs`` has none.

    Examples
    --------
    >>> print(strengths(read_results(store).runs))  # doctest: +SKIP
    ResNet-18 on ESC-10 (MFCC) 66.0 %: weak, over 10 points below the literature's 80 % on ESC-10
    """
    parts = []
    for label, dataset, accuracy, _ in _per_model(runs):
        text = f"{label} {accuracy.mean():.1f} %"
        level = LITERATURE_ACCURACY.get(dataset)
        if level is not None and accuracy.mean() < level - WEAK_MARGIN:
            text += (
                f": weak, over {WEAK_MARGIN:g} points below the literature's {level:g} % "
                f"on {DATASET_LABELS.get(dataset, dataset)}"
            )
        parts.append(text)
    return "; ".join(parts)
