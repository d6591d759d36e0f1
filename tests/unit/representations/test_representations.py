"""Representations: the torch front ends against the librosa reference, the API, the paper grid.

Tolerances of the torch path against the reference (float32 on both sides), over every MFCC,
STFT and Mel setting of the paper's grid on three real ESC-50 clips (2.5 s each):

- STFT and Mel in dB: largest absolute difference over all cells at most ``DB_TOLERANCE``
  (measured: 0.0062 dB for STFT, 0.0007 dB for Mel; the largest ones sit near the -80 dB floor).
- MFCC: largest absolute difference at most ``MFCC_TOLERANCE`` times the clip's largest
  absolute coefficient (measured: 1.9e-6).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import librosa
import numpy as np
import pandas as pd
import pytest
import scipy.fft
import torch

from specnb.representations import (
    MelSetting,
    MFCCSetting,
    SettingError,
    STFTSetting,
    WaveletSetting,
    all_paper_settings,
    axes,
    default_setting,
    front_end,
    paper_grid,
    reference,
    represent,
)
from specnb.representations.torch_backend import (
    MelFrontEnd,
    MFCCFrontEnd,
    PowerSpectrogram,
    STFTFrontEnd,
    dct2_matrix,
)

pytestmark = pytest.mark.usefixtures("one_thread")

DB_TOLERANCE = 0.02
MFCC_TOLERANCE = 2e-5

#: Clips of different kinds: a bark with silences, broadband rain, tonal bells.
CATEGORIES = ("dog", "rain", "church_bells")
EXCERPT_S = 2.5

GRID = paper_grid("mfcc") + paper_grid("stft") + paper_grid("mel")


@pytest.fixture(scope="module")
def esc50_clips(esc50_root: Path) -> Callable[[int], np.ndarray]:
    """``clips(sr)``: the first clip of each of :data:`CATEGORIES` at ``sr``, (3, N), cached."""
    meta = pd.read_csv(esc50_root / "meta" / "esc50.csv")
    paths = [
        esc50_root / "audio" / meta.loc[meta.category == c, "filename"].iloc[0] for c in CATEGORIES
    ]
    loaded: dict[int, np.ndarray] = {}

    def clips(sr: int) -> np.ndarray:
        if sr not in loaded:
            loaded[sr] = np.stack(
                [librosa.load(p, sr=sr, mono=True, duration=EXCERPT_S)[0] for p in paths]
            )
        return loaded[sr]

    return clips


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def _hop(setting) -> int:
    return setting.hop_length if isinstance(setting, MFCCSetting) else setting.hop


# --- the torch path against the reference, on the whole paper grid -------------------------


@pytest.mark.parametrize("setting", GRID, ids=lambda s: s.label())
def test_torch_matches_reference_on_esc50(setting, esc50_clips) -> None:
    clips = esc50_clips(setting.sr)
    expected = np.stack([reference(y, setting) for y in clips])
    got = represent(clips, setting, backend="torch", device="cpu")
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    error = np.abs(got.astype(np.float64) - expected)
    if isinstance(setting, MFCCSetting):
        scale = np.abs(expected).max(axis=(1, 2))
        assert (error.max(axis=(1, 2)) / scale).max() <= MFCC_TOLERANCE
    else:
        assert error.max() <= DB_TOLERANCE
        assert expected.max() == 0.0 and expected.min() >= -80.0


# --- the reference is librosa, called as the contract says ---------------------------------


def test_reference_is_librosa_mfcc(esc50_clips) -> None:
    s = MFCCSetting(
        sr=16000, n_mfcc=13, dct_norm="none", lifter=26.0, n_fft=1024, n_mels=40, hop_length=256
    )
    y = esc50_clips(16000)[0]
    direct = librosa.feature.mfcc(
        y=y,
        sr=16000,
        n_mfcc=13,
        dct_type=2,
        norm=None,
        lifter=26.0,
        n_fft=1024,
        hop_length=256,
        n_mels=40,
    )
    np.testing.assert_array_equal(reference(y, s), direct)


def test_reference_is_librosa_stft(esc50_clips) -> None:
    s = STFTSetting(sr=16000, n_fft=1024, win_length=600, hop_length=250)
    y = esc50_clips(16000)[1]
    spectrum = librosa.stft(y, n_fft=1024, hop_length=250, win_length=600)
    direct = librosa.amplitude_to_db(np.abs(spectrum), ref=np.max, top_db=80)
    np.testing.assert_array_equal(reference(y, s), direct)


def test_reference_is_librosa_mel(esc50_clips) -> None:
    s = MelSetting(sr=16000, n_fft=1024, win_length=700, hop_length=200, n_mels=64)
    y = esc50_clips(16000)[2]
    power = librosa.feature.melspectrogram(
        y=y, sr=16000, n_fft=1024, hop_length=200, win_length=700, n_mels=64
    )
    direct = librosa.power_to_db(power, ref=np.max, top_db=80)
    np.testing.assert_array_equal(reference(y, s), direct)


# --- building blocks against independent definitions ---------------------------------------


@pytest.mark.parametrize("ortho", [True, False])
def test_dct_matrix_is_scipy_dct(ortho: bool) -> None:
    x = np.random.default_rng(1).standard_normal((40, 7))
    expected = scipy.fft.dct(x, type=2, axis=0, norm="ortho" if ortho else None)[:13]
    got = dct2_matrix(13, 40, ortho).double().numpy() @ x
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:n_fft=256 is too large:UserWarning")
@pytest.mark.parametrize("n_fft, win, hop, n", [(512, 300, 100, 3001), (256, 256, 64, 50)])
def test_power_spectrogram_is_squared_stft(n_fft: int, win: int, hop: int, n: int) -> None:
    y = _noise(n, seed=2)
    expected = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win)) ** 2
    with torch.no_grad():
        got = PowerSpectrogram(n_fft, win, hop)(torch.from_numpy(y)[None])[0].numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5 * expected.max())


# --- API behaviour --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        default_setting("stft"),
        default_setting("mel"),
        MFCCSetting(sr=8000, n_mfcc=40, dct_norm="none", lifter=60.0),
    ],
    ids=lambda s: s.kind,
)
def test_batch_equals_single_clips(setting, esc50_clips) -> None:
    clips = esc50_clips(setting.sr)
    batched = represent(clips, setting, device="cpu")
    one_by_one = np.stack([represent(y, setting, device="cpu") for y in clips])
    assert batched.shape == (3, *one_by_one.shape[1:])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-5, atol=1e-3)
    small_batches = represent(torch.from_numpy(clips), setting, device="cpu", batch_size=2)
    np.testing.assert_allclose(small_batches, batched, rtol=1e-5, atol=1e-3)
    assert represent(clips[0], setting, backend="reference").shape == batched.shape[1:]


@pytest.mark.parametrize("n", [1, 300, 2049])
def test_clips_shorter_than_the_window_work_like_librosa(n: int) -> None:
    y = _noise(n, seed=n)
    for setting in (STFTSetting(), MelSetting(), MFCCSetting(sr=8000)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            expected = reference(y, setting)
        got = represent(y, setting, device="cpu")
        assert got.shape == expected.shape
        assert expected.shape[1] == 1 + n // _hop(setting)


def test_silence_gives_zero_db() -> None:
    y = np.zeros(4000, dtype=np.float32)
    for setting in (STFTSetting(n_fft=512), MelSetting(n_fft=512)):
        assert not reference(y, setting).any()
        assert not represent(y, setting, device="cpu").any()


@pytest.mark.parametrize(
    "setting",
    [
        STFTSetting(n_fft=256, win_length=200, hop_length=64),
        MelSetting(n_fft=256, hop_length=64, n_mels=16),
        MFCCSetting(sr=8000, n_fft=256, hop_length=64, n_mels=16, n_mfcc=8, lifter=16.0),
    ],
    ids=lambda s: s.kind,
)
def test_gradient_reaches_the_waveform(setting) -> None:
    y = torch.from_numpy(_noise(2000, seed=3))[None].requires_grad_(True)
    out = front_end(setting, device="cpu")(y)
    weights = torch.from_numpy(np.random.default_rng(4).standard_normal(out.shape[1:])).float()
    (out * weights).sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()
    assert y.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "build, setting",
    [
        (STFTFrontEnd, STFTSetting(sr=8000, n_fft=64, win_length=48, hop_length=16)),
        (MelFrontEnd, MelSetting(sr=8000, n_fft=64, hop_length=16, n_mels=8)),
        (
            MFCCFrontEnd,
            MFCCSetting(sr=8000, n_fft=64, hop_length=16, n_mels=8, n_mfcc=5, lifter=10.0),
        ),
    ],
    ids=["stft", "mel", "mfcc"],
)
def test_gradient_is_the_derivative(build, setting) -> None:
    module = build(setting).double()
    y = torch.from_numpy(_noise(200, seed=5).astype(np.float64))[None].requires_grad_(True)
    assert torch.autograd.gradcheck(module, (y,), eps=1e-6, atol=1e-4)


def test_front_ends_are_cached_per_feature_key_and_device() -> None:
    s = default_setting("mel")
    assert front_end(s, "cpu") is front_end(s.replace(colormap="magma"), torch.device("cpu"))
    assert front_end(s, "cpu") is not front_end(s.replace(n_mels=64), "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(esc50_clips) -> None:
    for kind in ("mfcc", "stft", "mel"):
        s = default_setting(kind)
        clips = esc50_clips(s.sr)
        on_cuda = represent(clips, s, device="cuda")
        cpu = represent(clips, s, device="cpu")
        np.testing.assert_allclose(on_cuda, cpu, rtol=1e-4, atol=0.02)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, message",
    [
        (np.array([0.0, np.nan, 0.1], dtype=np.float32), "y holds 1 NaN or infinite"),
        (np.array([0.0, np.inf], dtype=np.float32), "y holds 1 NaN or infinite"),
        (np.zeros(0, dtype=np.float32), "y is empty"),
        (np.zeros((2, 0), dtype=np.float32), "y is empty"),
        (np.zeros((2, 3, 100), dtype=np.float32), r"y must have shape \(n_samples,\) or"),
    ],
)
def test_bad_waveforms_are_refused(y: np.ndarray, message: str) -> None:
    for backend in ("torch", "reference"):
        with pytest.raises(ValueError, match=message):
            represent(y, STFTSetting(n_fft=64), backend=backend, device="cpu")


def test_reference_wants_one_clip() -> None:
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples,\), got shape \(2, 10\)"):
        reference(np.zeros((2, 10), np.float32), STFTSetting())
    with pytest.raises(TypeError, match="y must be a numpy array"):
        reference([0.0, 1.0], STFTSetting())
    with pytest.raises(TypeError, match="y must hold floating-point samples"):
        reference(np.ones(10, np.complex64), STFTSetting())
    with pytest.raises(TypeError, match="y must hold floating-point samples"):
        represent(np.ones(10, np.int16), STFTSetting(), device="cpu")


def test_bad_arguments_are_refused() -> None:
    y = _noise(1000)
    with pytest.raises(ValueError, match="backend must be one of"):
        represent(y, STFTSetting(), backend="numpy")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        represent(y, STFTSetting(), device="cpu", batch_size=0)
    with pytest.raises(TypeError, match="setting must be"):
        represent(y, {"repr": "stft"}, device="cpu")
    with pytest.raises(TypeError, match="setting must be"):
        front_end("stft")
    with pytest.raises(ValueError, match="n_frames must be"):
        axes(STFTSetting(), -1)


@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: STFTSetting(n_fft=512, win_length=1024), "win_length"),
        (lambda: MelSetting(n_fft=256, win_length=512), "win_length"),
        (lambda: MFCCSetting(lifter=-1.0), "lifter"),
        (lambda: MFCCSetting(sr=0), "sr"),
        (lambda: STFTSetting(sr=-8000), "sr"),
        (lambda: MelSetting(sr=0), "sr"),
        (lambda: WaveletSetting(sr=0), "sr"),
    ],
)
def test_impossible_settings_raise(build, field: str) -> None:
    with pytest.raises(SettingError, match=field):
        build()


# --- axes -----------------------------------------------------------------------------------


def test_axes_match_the_representation() -> None:
    y = _noise(8000)
    for setting in (
        STFTSetting(sr=8000, n_fft=512, hop_length=200),
        MelSetting(sr=8000, n_fft=512, n_mels=40),
        MFCCSetting(sr=8000, n_mfcc=13),
    ):
        out = represent(y, setting, device="cpu")
        freqs, times = axes(setting, out.shape[1])
        assert freqs.shape == (out.shape[0],) and times.shape == (out.shape[1],)
        np.testing.assert_allclose(np.diff(times), _hop(setting) / setting.sr)
        assert times[0] == 0.0
    stft_freqs, _ = axes(STFTSetting(sr=8000, n_fft=512), 1)
    assert stft_freqs[0] == 0.0 and stft_freqs[-1] == 4000.0
    mel_freqs, _ = axes(MelSetting(sr=8000, n_mels=40), 1)
    assert np.all(np.diff(mel_freqs) > 0) and 0 < mel_freqs[0] and mel_freqs[-1] < 4000
    mfcc_rows, _ = axes(MFCCSetting(n_mfcc=13), 1)
    np.testing.assert_array_equal(mfcc_rows, np.arange(13))


def test_wavelet_dispatch() -> None:
    pytest.importorskip("specnb.representations.wavelets")
    s = WaveletSetting(sr=8000, n_scales=16)
    y = _noise(2000)
    expected = reference(y, s)
    got = represent(y, s, device="cpu")
    assert got.shape == expected.shape
    freqs, times = axes(s, got.shape[1])
    assert freqs.shape == (16,)
    np.testing.assert_allclose(times[:2], np.array([0, s.hop]) / 8000 + 0.025)


# --- the paper grid -------------------------------------------------------------------------


def test_paper_grid_sizes_and_members() -> None:
    sizes = {"mfcc": 4 * 3 * 2 * 6, "stft": 3 * 4 * 2 - 4, "mel": 3 * 5, "wavelet": 3 * 2 * 5}
    for kind, size in sizes.items():
        grid = paper_grid(kind)
        assert len(grid) == size
        assert len({s.feature_key for s in grid}) == size
        assert all(s.kind == kind for s in grid)
        assert default_setting(kind) in grid
    assert len(all_paper_settings()) == sum(sizes.values())
    mfcc = paper_grid("mfcc")
    assert {s.lifter / s.n_mfcc for s in mfcc} == {0.0, 0.5, 1.0, 1.5, 2.0, 2.5}
    assert {s.hop_length for s in mfcc} == {1024}
    stft = paper_grid("stft")
    assert {(s.win / s.n_fft) for s in stft} == {0.25, 0.5, 0.75, 1.0}
    assert {s.hop for s in stft if s.n_fft == 1024} == {256, 512}
    assert {s.win for s in paper_grid("mel") if s.n_fft == 512} == {102, 205, 307, 410, 512}
    assert {(s.frame_ms, s.overlap) for s in paper_grid("wavelet")} == {
        (ms, 0.5) for ms in (30.0, 40.0, 50.0, 60.0, 70.0)
    }


def test_unknown_representation_is_refused() -> None:
    with pytest.raises(SettingError, match="repr='dwt'"):
        paper_grid("dwt")
    with pytest.raises(SettingError, match="repr='dwt'"):
        default_setting("dwt")
