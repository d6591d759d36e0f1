"""Train/dev/test splits (paper §4.2) that respect source recordings and augmentation.

Rules every split here obeys:

- the test set holds original clips only;
- an augmented copy always sits in the same part as its original (train or dev);
- :func:`cv_split` never puts clips of one source recording (``source_id``) on both sides of
  a boundary: test versus train+dev, and train versus dev within a fold;
- :func:`official_split` follows the dataset's own folds and warns where they share a source.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .clips import Clip

__all__ = ["Fold", "Split", "SplitError", "SplitWarning", "cv_split", "official_split"]

from specnb.errors import SplitError


class SplitWarning(UserWarning):
    """The official folds let a source recording cross the test boundary."""


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: ``train`` fits the model, ``dev`` early-stops it.

    Both hold originals and their augmented copies.
    """

    train: tuple[Clip, ...]
    dev: tuple[Clip, ...]


@dataclass(frozen=True)
class Split:
    """A held-out test set (originals only) and the cross-validation folds of the rest."""

    test: tuple[Clip, ...]
    folds: tuple[Fold, ...]


def _originals_and_copies(clips: Sequence[Clip]) -> tuple[list[Clip], dict[str, list[Clip]]]:
    originals = [clip for clip in clips if clip.is_original]
    if not originals:
        raise SplitError("no original clips to split")
    ids = Counter(clip.clip_id for clip in clips)
    repeated = [clip_id for clip_id, count in ids.items() if count > 1]
    if repeated:
        raise SplitError(f"clip ids repeat: {repeated[:5]}")
    copies: dict[str, list[Clip]] = defaultdict(list)
    known = {clip.clip_id for clip in originals}
    for clip in clips:
        if not clip.is_original:
            if clip.parent_id not in known:
                raise SplitError(
                    f"augmented clip {clip.clip_id!r} has no original {clip.parent_id!r} "
                    "among the clips"
                )
            copies[clip.parent_id].append(clip)
    return originals, copies


def _with_copies(originals: Iterable[Clip], copies: dict[str, list[Clip]]) -> tuple[Clip, ...]:
    """The originals in their order, then their copies (each original's copies together)."""
    originals = tuple(originals)
    return originals + tuple(copy for clip in originals for copy in copies.get(clip.clip_id, ()))


def cv_split(
    clips: Sequence[Clip], *, test_size: float = 0.3, n_folds: int = 5, seed: int = 0
) -> Split:
    """Hold out a stratified, source-grouped test set and cross-validation folds of the rest.

    Source recordings (``source_id``) are dealt, largest first in a seeded random order, to
    ``1 + n_folds`` parts whose shares of every class aim at ``test_size`` (the test part) and
    ``(1 - test_size) / n_folds`` (each fold's dev part): each source goes to the part that
    lacks the most clips of its classes. Fold ``k`` trains on the other folds' parts and is
    early-stopped on part ``k``.

    Parameters
    ----------
    clips : sequence of Clip
        Originals, optionally with augmented copies (whose originals must be present).
    test_size : float in (0, 1)
        Share of original clips held out for testing.
    n_folds : int >= 2
        Number of cross-validation folds.
    seed : int
        Seed of the random order; the same clips and seed give the same split.

    Returns
    -------
    split : Split
        ``test`` holds originals only; each fold's ``train`` and ``dev`` hold originals
        followed by their copies.

    Raises
    ------
    SplitError
        ``test_size`` outside (0, 1); ``n_folds`` below 2; a class with fewer than
        ``n_folds + 1`` source recordings (it could not appear in the test set and in every
        dev part); copies without their original; repeated clip ids.

    Examples
    --------
    >>> from specnb.data import load_synthetic
    >>> split = cv_split(load_synthetic(n_per_class=20).clips, seed=0)
    >>> len(split.test), len(split.folds)
    (60, 5)
    """
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, (int, float))
        or not (0 < test_size < 1)
    ):
        raise SplitError(f"test_size must lie strictly between 0 and 1, got {test_size!r}")
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise SplitError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    originals, copies = _originals_and_copies(clips)

    members: dict[str, list[Clip]] = defaultdict(list)
    for clip in originals:
        members[clip.source_id].append(clip)
    labels = sorted({clip.label for clip in originals})
    column = {label: i for i, label in enumerate(labels)}
    sources_per_class = Counter(
        label for group in members.values() for label in {clip.label for clip in group}
    )
    short = {label: n for label, n in sorted(sources_per_class.items()) if n < n_folds + 1}
    if short:
        raise SplitError(
            f"class(es) {short} (label: number of source recordings) have fewer than "
            f"n_folds + 1 = {n_folds + 1} sources; lower n_folds or merge classes"
        )

    names = sorted(members)
    counts = np.zeros((len(names), len(labels)))
    for row, name in enumerate(names):
        for clip in members[name]:
            counts[row, column[clip.label]] += 1
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]

    shares = np.array([test_size] + [(1 - test_size) / n_folds] * n_folds)
    target = shares[:, None] * counts.sum(axis=0)[None, :]
    filled = np.zeros_like(target)
    part_of: dict[str, int] = {}
    for row in order:
        need = (target - filled) @ counts[row]
        part = int(np.argmax(need - 1e-9 * filled.sum(axis=1)))
        filled[part] += counts[row]
        part_of[names[row]] = part

    parts = [
        [clip for clip in originals if part_of[clip.source_id] == k] for k in range(n_folds + 1)
    ]
    folds = tuple(
        Fold(
            train=_with_copies(
                (clip for j in range(1, n_folds + 1) if j != k for clip in parts[j]), copies
            ),
            dev=_with_copies(parts[k], copies),
        )
        for k in range(1, n_folds + 1)
    )
    return Split(test=tuple(parts[0]), folds=folds)


def official_split(clips: Sequence[Clip], *, test_fold: int, n_folds: int | None = None) -> Split:
    """Evaluate on one official fold; the other folds take turns as the dev part.

    Parameters
    ----------
    clips : sequence of Clip
        Originals (``fold`` as published), optionally with augmented copies.
    test_fold : int
        The official fold held out for testing (its originals only).
    n_folds : int >= 1, optional
        Number of fold models: the first ``n_folds`` remaining official folds (in increasing
        order) each serve once as the dev part, and every model trains on all the other
        remaining folds, the unused dev folds included. None: one per remaining fold.
        Rotating ``test_fold`` over every fold with ``n_folds=1`` makes every clip a test
        clip once, each predicted by one model trained on three fifths of the data (ESC-50's
        five folds).

    Returns
    -------
    split : Split
        One :class:`Fold` per dev fold, in increasing order, with that fold as ``dev`` and the
        other remaining folds as ``train``.

    Raises
    ------
    SplitError
        ``test_fold`` is not among the clips' folds, fewer than two other folds remain, or
        ``n_folds`` exceeds the remaining folds (the message says what a valid value gives).

    Warns
    -----
    SplitWarning
        Some source recording has clips both in ``test_fold`` and in another fold (ESC-50's
        official folds do this for 4 of its 1524 sources); the sources are named.

    Examples
    --------
    >>> from specnb.data import load_synthetic
    >>> split = official_split(load_synthetic(n_per_class=10).clips, test_fold=1)
    >>> len(split.test), len(split.folds)
    (20, 4)
    """
    originals, copies = _originals_and_copies(clips)
    folds = sorted({clip.fold for clip in originals})
    if test_fold not in folds:
        raise SplitError(f"test_fold={test_fold!r} is not one of the clips' folds {folds}")
    others = [fold for fold in folds if fold != test_fold]
    if len(others) < 2:
        raise SplitError(
            f"test_fold={test_fold} leaves {len(others)} other fold(s); cross-validation needs 2"
        )
    if n_folds is not None and not 1 <= n_folds <= len(others):
        raise SplitError(
            f"n_folds={n_folds} (FOLDS) with official test fold {test_fold}: the remaining "
            f"official folds are {others}, so n_folds must lie in 1..{len(others)}; "
            f"n_folds={len(others)} trains one model per remaining fold, a smaller n_folds uses "
            "the first n_folds of them as dev parts and trains each model on all the others"
        )
    dev_folds = others if n_folds is None else others[:n_folds]
    test = tuple(clip for clip in originals if clip.fold == test_fold)
    inside = {clip.source_id for clip in test}
    crossing = sorted({clip.source_id for clip in originals if clip.fold != test_fold} & inside)
    if crossing:
        warnings.warn(
            f"official fold {test_fold} shares {len(crossing)} source recording(s) with the "
            f"other folds: {', '.join(crossing[:5])}",
            SplitWarning,
            stacklevel=2,
        )
    return Split(
        test=test,
        folds=tuple(
            Fold(
                train=_with_copies(
                    (clip for clip in originals if clip.fold not in (test_fold, dev)), copies
                ),
                dev=_with_copies((clip for clip in originals if clip.fold == dev), copies),
            )
            for dev in dev_folds
        ),
    )
