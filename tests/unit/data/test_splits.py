"""cv_split / official_split: grouping by source, copies with originals, sizes, stratification."""

from __future__ import annotations

import warnings
from collections import Counter

import pytest

from specnb.data import load_esc10, load_esc50, load_synthetic
from specnb.data.clips import Clip, augment_clips
from specnb.data.splits import Split, SplitError, SplitWarning, cv_split, official_split
from specnb.training import TrainingError


def check_split(split: Split, clips: tuple[Clip, ...], n_folds: int) -> None:
    """Every rule a split must obey, checked from scratch."""
    originals = [c for c in clips if c.is_original]
    assert all(c.is_original for c in split.test)
    test_ids = {c.clip_id for c in split.test}
    test_sources = {c.source_id for c in split.test}
    assert len(split.folds) == n_folds
    dev_originals: list[str] = []
    for fold in split.folds:
        train_ids = {c.clip_id for c in fold.train}
        dev_ids = {c.clip_id for c in fold.dev}
        assert not train_ids & dev_ids and not (train_ids | dev_ids) & test_ids
        assert train_ids | dev_ids | test_ids == {
            c.clip_id for c in clips if c.parent_id not in test_ids or c.is_original
        }
        train_sources = {c.source_id for c in fold.train}
        dev_sources = {c.source_id for c in fold.dev}
        assert not train_sources & dev_sources
        assert not (train_sources | dev_sources) & test_sources
        for part, ids in ((fold.train, train_ids), (fold.dev, dev_ids)):
            assert all(c.parent_id in ids for c in part)
        copies_of = Counter(c.parent_id for c in clips if not c.is_original)
        assert sum(not c.is_original for c in fold.dev) == sum(
            copies_of[c.clip_id] for c in fold.dev if c.is_original
        )
        dev_originals += [c.clip_id for c in fold.dev if c.is_original]
    rest = [c.clip_id for c in originals if c.clip_id not in test_ids]
    assert sorted(dev_originals) == sorted(rest)


def check_stratified(split: Split, clips: tuple[Clip, ...], test_size: float, slack: float):
    totals = Counter(c.label for c in clips if c.is_original)
    tested = Counter(c.label for c in split.test)
    assert len(split.test) / sum(totals.values()) == pytest.approx(test_size, abs=0.02)
    for label, total in totals.items():
        assert tested[label] / total == pytest.approx(test_size, abs=slack)
    for fold in split.folds:
        dev = Counter(c.label for c in fold.dev if c.is_original)
        assert set(dev) == set(totals)


def test_synthetic_with_copies():
    clips = augment_clips(load_synthetic(n_per_class=20).clips, stretch_rates=(1.1,))
    split = cv_split(clips, seed=0)
    check_split(split, clips, 5)
    check_stratified(split, clips, 0.3, 0.0)
    assert len(split.test) == 60
    assert all(len(f.train) + len(f.dev) == 140 * 6 for f in split.folds)


@pytest.mark.parametrize("test_size, n_folds", [(0.3, 5), (0.2, 3), (0.5, 2)])
def test_other_settings(test_size, n_folds):
    clips = load_synthetic(n_per_class=40).clips
    split = cv_split(clips, test_size=test_size, n_folds=n_folds, seed=4)
    check_split(split, clips, n_folds)
    check_stratified(split, clips, test_size, 0.03)


def test_deterministic_per_seed():
    clips = augment_clips(load_synthetic(n_per_class=20).clips)
    assert cv_split(clips, seed=3) == cv_split(clips, seed=3)
    assert {c.clip_id for c in cv_split(clips, seed=3).test} != {
        c.clip_id for c in cv_split(clips, seed=4).test
    }
    shuffled = tuple(reversed(clips))
    assert {c.clip_id for c in cv_split(shuffled, seed=3).test} == {
        c.clip_id for c in cv_split(clips, seed=3).test
    }


@pytest.mark.parametrize("loader", [load_esc10, load_esc50])
def test_real_esc_metadata(esc50_root, loader):
    clips = augment_clips(loader(esc50_root).clips)
    split = cv_split(clips, seed=1)
    check_split(split, clips, 5)
    check_stratified(split, clips, 0.3, 0.05)


def test_official_split_on_esc10(esc50_root):
    clips = augment_clips(load_esc10(esc50_root).clips, pitch_scales=(0.9, 1.5))
    split = official_split(clips, test_fold=5)
    assert {c.fold for c in split.test} == {5} and len(split.test) == 80
    assert [{c.fold for c in f.dev} for f in split.folds] == [{1}, {2}, {3}, {4}]
    check_split(split, clips, 4)


def test_official_split_warns_where_esc50_folds_share_sources(esc50_root):
    clips = load_esc50(esc50_root).clips
    with pytest.warns(SplitWarning, match=r"fold 2 shares 2 source recording\(s\).*131943, 134049"):
        official_split(clips, test_fold=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split = official_split(clips, test_fold=1)
    assert len(split.test) == 400 and len(split.folds) == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"test_size": 0.0}, "test_size"),
        ({"test_size": 1.0}, "test_size"),
        ({"test_size": 1.5}, "test_size"),
        ({"test_size": "0.3"}, "test_size"),
        ({"n_folds": 1}, "n_folds"),
        ({"n_folds": 2.5}, "n_folds"),
    ],
)
def test_impossible_settings(kwargs, message):
    with pytest.raises(SplitError, match=message):
        cv_split(load_synthetic(n_per_class=20).clips, **kwargs)


def test_too_few_sources_per_class():
    clips = load_synthetic(n_per_class=8).clips
    with pytest.raises(SplitError, match=r"fewer than n_folds \+ 1 = 6 sources"):
        cv_split(clips)
    check_split(cv_split(clips, n_folds=3), clips, 3)


def test_bad_clip_lists():
    clips = load_synthetic(n_per_class=20).clips
    orphan = clips[0].augmented("pitch0.9")
    with pytest.raises(SplitError, match="no original"):
        cv_split(clips[1:] + (orphan,))
    with pytest.raises(SplitError, match="repeat"):
        cv_split(clips + clips[:1])
    with pytest.raises(SplitError, match="no original clips"):
        cv_split(())
    with pytest.raises(SplitError, match="test_fold=9 is not one"):
        official_split(clips, test_fold=9)
    two_folds = tuple(c for c in clips if c.fold <= 2)
    with pytest.raises(SplitError, match="leaves 1 other fold"):
        official_split(two_folds, test_fold=1)


def test_official_split_honours_n_folds_or_refuses_it():
    clips = load_synthetic(n_per_class=20).clips
    folds = sorted({c.fold for c in clips})
    assert folds == [1, 2, 3, 4, 5]
    every = official_split(clips, test_fold=5)
    assert [f.dev[0].fold for f in every.folds] == [1, 2, 3, 4]
    two = official_split(clips, test_fold=5, n_folds=2)
    assert [{c.fold for c in f.dev} for f in two.folds] == [{1}, {2}]
    # each model still trains on every other remaining fold, the unused dev folds included
    assert [{c.fold for c in f.train} for f in two.folds] == [{2, 3, 4}, {1, 3, 4}]
    assert two.test == every.test
    assert official_split(clips, test_fold=5, n_folds=4) == every
    with pytest.raises(
        SplitError,
        match=r"n_folds=5 \(FOLDS\).*remaining official folds are "
        r"\[1, 2, 3, 4\].*1\.\.4",
    ):
        official_split(clips, test_fold=5, n_folds=5)


def test_rotating_the_official_test_fold_with_one_model_tests_every_clip_once():
    clips = load_synthetic(n_per_class=20).clips
    tested: list[str] = []
    for fold in range(1, 6):
        split = official_split(clips, test_fold=fold, n_folds=1)
        (only,) = split.folds
        assert {c.fold for c in split.test} == {fold}
        assert {c.fold for c in only.dev}.isdisjoint({c.fold for c in only.train} | {fold})
        assert len({c.fold for c in only.train}) == 3
        tested += [c.clip_id for c in split.test]
    assert sorted(tested) == sorted(c.clip_id for c in clips)
    with pytest.raises(SplitError, match=r"n_folds=0 \(FOLDS\)"):
        official_split(clips, test_fold=1, n_folds=0)


def test_training_split_follows_folds_with_an_official_test_fold():
    from specnb.training import TrainConfig
    from specnb.training.run_folder import make_split

    clips = load_synthetic(n_per_class=20).clips
    config = TrainConfig(n_folds=2, official_test_fold=3)
    assert [f.dev[0].fold for f in make_split(clips, config).folds] == [1, 2]
    with pytest.raises(SplitError, match="n_folds=5"):
        make_split(clips, config.replace(n_folds=5))
    assert len(make_split(clips, config.replace(n_folds=1)).folds) == 1
    with pytest.raises(TrainingError, match="n_folds must be at least 2 with a random split"):
        TrainConfig(n_folds=1)
