"""The representation explorer: its widgets driven as a user would, and notebook 01 headless."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from specnb.representations import make_setting
from specnb.representations.compute import represent
from specnb.representations.images import setting_image
from specnb.ui.explorer import RepresentationExplorer


@pytest.fixture(scope="module")
def explorer(tiny_synthetic) -> RepresentationExplorer:
    return RepresentationExplorer({"synthetic": tiny_synthetic})


def test_explorer_starts_on_a_clip_with_audio(explorer):
    assert explorer.clip.value
    ((setting, raw, image),) = explorer.last_panels
    assert setting.kind == "stft"
    assert image.shape == (3, 128, 128)
    y, sr = sf.read(io.BytesIO(explorer.audio.value))
    assert sr == setting.sr and len(y) == 5 * sr
    assert explorer.left._controls["hop_length"].index == 0  # "default", not a blank box
    assert bytes(explorer.figure.value[:8]) == b"\x89PNG\r\n\x1a\n"


def test_changing_representation_and_setting_redraws(explorer):
    before = explorer.last_panels[0][1]
    explorer.left.repr.value = "mfcc"
    setting, raw, _ = explorer.last_panels[0]
    assert setting.kind == "mfcc" and raw.shape[0] == setting.n_mfcc
    explorer.left._controls["n_mfcc"].value = 40
    setting, raw, _ = explorer.last_panels[0]
    assert setting.n_mfcc == 40 and raw.shape[0] == 40
    assert raw.shape != before.shape
    explorer.left._controls["lifter"].value = 1.5
    assert explorer.last_panels[0][0].lifter == pytest.approx(60.0)
    paper_image = explorer.last_panels[0][2]
    explorer.left._controls["per_coefficient"].value = True
    setting, raw, image = explorer.last_panels[0]
    assert setting.per_coefficient and setting.lifter == pytest.approx(60.0)
    torch.testing.assert_close(image, setting_image(raw, setting), rtol=0, atol=0)
    assert float((image - paper_image).abs().mean()) > 0.05


def test_the_shown_representation_is_the_pipeline_one(explorer):
    explorer.left.repr.value = "mel"
    explorer.left._controls["n_fft"].value = 1024
    setting, raw, _ = explorer.last_panels[0]
    ds = explorer.datasets["synthetic"]
    expected = represent(ds.load(ds.by_id(explorer.clip.value), setting.sr), setting)
    np.testing.assert_allclose(raw, expected, atol=1e-5)


def test_compare_shows_two_settings(explorer):
    explorer.compare.value = True
    assert len(explorer.last_panels) == 2
    assert explorer.right.box.layout.display == ""
    explorer.compare.value = False
    assert len(explorer.last_panels) == 1


def test_class_and_clip_selection(explorer):
    ds = explorer.datasets["synthetic"]
    explorer.category.value = ds.classes[3]
    assert all(ds.by_id(c).label == 3 for c in explorer.clip.options)
    assert explorer.last_panels  # redrawn for the new clip


def test_wavelet_settings_redraw_and_set_round_trips(explorer):
    explorer.left.repr.value = "wavelet"
    explorer.left._controls["frame_ms"].value = 70.0
    explorer.left._controls["wavelet"].value = "haar"
    setting, raw, _ = explorer.last_panels[0]
    assert (setting.wavelet, setting.frame_ms) == ("haar", 70.0)
    frames = 1 + (5 * setting.sr - setting.frame_length) // setting.hop
    assert raw.shape == (setting.n_scales, frames)
    wanted = make_setting("stft", n_fft=512, win_length=256, sr=16000)
    explorer.left.set(wanted)
    assert explorer.left.setting == wanted
    assert explorer.last_panels[0][0] == wanted


def test_explorer_notebook_headless(tmp_path, execute_notebook):
    settings = [{"repr": "mfcc", "sr": 16000, "n_mfcc": 13}, {"repr": "wavelet", "wavelet": "haar"}]
    executed = execute_notebook(
        "representations",
        tmp_path,
        {"MAX_CLASSES": 2, "CLIPS_PER_CLASS": 1, "SETTINGS": settings, "INTERACTIVE": True},
    )
    assert executed.is_file()
    figures = sorted(tmp_path.glob("example_*.png"))
    assert len(figures) == 2 and all(f.stat().st_size > 10_000 for f in figures)
    stats = pd.read_csv(tmp_path / "feature_statistics.csv")
    assert list(stats["repr"]) == ["mfcc", "wavelet"]
    assert stats.loc[0, "rows"] == 13
    wavelet = make_setting("wavelet", wavelet="haar")
    assert stats.loc[1, "rows"] == wavelet.n_scales
    assert stats.loc[1, "frames"] == 1 + (5 * wavelet.sr - wavelet.frame_length) // wavelet.hop
    assert (stats["max"] >= stats["mean"]).all() and (stats["mean"] >= stats["min"]).all()
    assert stats.loc[1, "max"] == pytest.approx(0.0, abs=1e-4)  # dB relative to the clip's max
    assert ((stats["image_mean"] > 0) & (stats["image_mean"] < 1)).all()
