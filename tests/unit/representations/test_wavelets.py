"""Wavelet scalogram: Haar wavelet, pywt discretisation, reference path, torch path."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import pywt
import torch

from specnb.representations.cwt import (
    HAAR_CENTRE_FREQUENCY,
    centre_frequency,
    discretised_cwt,
    haar_integral,
    haar_psi,
    scale_kernels,
)
from specnb.representations.settings import WAVELETS, SettingError, WaveletSetting
from specnb.representations.wavelets import (
    TorchScalogram,
    frame_count,
    frame_means,
    scale_frequencies,
    scales,
    scalogram_reference,
)

#: Largest |torch - reference| in dB accepted on real clips (measured: about 1e-4 dB).
TOLERANCE_DB = 1e-3
#: Two contrasting ESC-50 clips: a dog bark (sparse, silent gaps) and chirping birds (dense,
#: high-pitched).
CLIPS = ("1-100032-A-0.ogg", "1-100038-A-14.ogg")
EXCERPT_S = 1.5


@pytest.fixture(scope="module")
def excerpts(esc50_root: Path) -> dict[int, np.ndarray]:
    """The two clips' first 1.5 s at 8 and 16 kHz, shape (2, N) float32."""
    out = {}
    for sr in (8000, 16000):
        clips = [
            librosa.load(esc50_root / "audio" / name, sr=sr, duration=EXCERPT_S)[0]
            for name in CLIPS
        ]
        out[sr] = np.stack([c[: int(EXCERPT_S * sr)] for c in clips]).astype(np.float32)
    return out


PAPER_GRID = [
    WaveletSetting(sr=sr, wavelet=wavelet, frame_ms=frame_ms, overlap=0.5)
    for wavelet in WAVELETS
    for sr in (8000, 16000)
    for frame_ms in (30.0, 40.0, 50.0, 60.0, 70.0)
]


@pytest.mark.parametrize(
    "setting", PAPER_GRID, ids=lambda s: f"{s.wavelet}-{s.sr}-{s.frame_ms:g}ms"
)
def test_torch_matches_reference_on_real_clips(
    setting: WaveletSetting, excerpts: dict[int, np.ndarray]
) -> None:
    clips = excerpts[setting.sr]
    reference = np.stack([scalogram_reference(clip, setting) for clip in clips])
    with torch.no_grad():
        fast = TorchScalogram(setting)(torch.from_numpy(clips)).numpy()
    n_frames = 1 + (clips.shape[1] - setting.frame_length) // setting.hop
    assert reference.shape == fast.shape == (2, setting.n_scales, n_frames)
    assert reference.dtype == np.float32
    # Real content: a wide dynamic range, not a flat floor.
    assert reference.max() == 0.0 and reference.min() >= -80.0 and reference.std() > 5.0
    assert np.abs(fast - reference).max() <= TOLERANCE_DB


@pytest.mark.parametrize("wavelet", WAVELETS)
def test_clip_shorter_than_the_longest_kernel(wavelet: str) -> None:
    # At 16 kHz and 50 Hz the cmor kernel has 5122 taps and mexh 1282: they wrap around the FFT.
    setting = WaveletSetting(sr=16000, wavelet=wavelet, frame_ms=30.0, overlap=0.25)
    y = np.random.default_rng(3).standard_normal(700).astype(np.float32)
    with torch.no_grad():
        fast = TorchScalogram(setting)(torch.from_numpy(y)).numpy()
    assert np.abs(fast - scalogram_reference(y, setting)).max() <= TOLERANCE_DB


def test_rows_are_log_spaced_from_f_min_to_nyquist() -> None:
    setting = WaveletSetting(sr=16000, f_min=60.0, n_scales=40)
    f = scale_frequencies(setting)
    assert f[0] == pytest.approx(60.0) and f[-1] == pytest.approx(8000.0)
    assert np.allclose(np.diff(np.log(f)), np.log(8000.0 / 60.0) / 39)


@pytest.mark.parametrize("wavelet", ["mexh", "cmor1.5-1.0"])
def test_scales_are_labelled_as_pywt_labels_them(wavelet: str) -> None:
    setting = WaveletSetting(sr=8000, wavelet=wavelet, n_scales=16)
    hz = pywt.scale2frequency(wavelet, scales(setting), precision=12) * setting.sr
    assert np.allclose(hz, scale_frequencies(setting))


def test_haar_centre_frequency_is_the_peak_of_its_spectrum() -> None:
    t = (np.arange(1000) + 0.5) / 1000
    spectrum = np.abs(np.fft.rfft(haar_psi(t), 1 << 20)) / 1000
    peak = np.argmax(spectrum) * 1000 / (1 << 20)
    assert centre_frequency("haar") == HAAR_CENTRE_FREQUENCY
    assert peak == pytest.approx(HAAR_CENTRE_FREQUENCY, abs=1e-3)
    nu = HAAR_CENTRE_FREQUENCY
    assert spectrum.max() == pytest.approx(np.sin(np.pi * nu / 2) ** 2 / (np.pi * nu / 2), rel=1e-4)


def test_haar_integral_is_the_running_integral_of_psi() -> None:
    t = np.linspace(-0.5, 1.5, 20001)
    running = np.cumsum(haar_psi(t)) * (t[1] - t[0])
    assert np.abs(running - haar_integral(t)).max() < 2e-4


@pytest.mark.parametrize("wavelet", ["mexh", "cmor1.5-1.0"])
@pytest.mark.parametrize("method", ["conv", "fft"])
def test_discretisation_is_pywts(wavelet: str, method: str) -> None:
    y = np.random.default_rng(0).standard_normal(1500)
    s = np.geomspace(0.5, 60.0, 7) * (4.0 if wavelet.startswith("cmor") else 1.0)
    expected, _ = pywt.cwt(y, s, wavelet, method=method)
    got = discretised_cwt(y, s, wavelet, method=method)
    assert np.abs(got - expected).max() <= 1e-12 * np.abs(expected).max()


@pytest.mark.parametrize("wavelet", WAVELETS)
def test_difference_kernels_reproduce_the_transform(wavelet: str) -> None:
    y = np.random.default_rng(1).standard_normal(800)
    s = np.array([1.6, 7.3, 41.0])
    expected = discretised_cwt(y, s, wavelet)
    for row, (g, lead) in enumerate(scale_kernels(wavelet, s)):
        got = np.convolve(y, g)[lead : lead + y.size]
        assert np.allclose(got, expected[row], atol=1e-12 * np.abs(expected[row]).max())


@pytest.mark.parametrize("f", [0.004, 0.01, 0.02])
@pytest.mark.parametrize("s", [20.0, 60.0, 150.0])
def test_haar_sine_response_has_the_analytic_amplitude(f: float, s: float) -> None:
    # For sin(2 pi f n) the continuous Haar CWT oscillates with amplitude
    # sqrt(s) |Psi(s f)|, |Psi(nu)| = sin^2(pi nu / 2) / (pi nu / 2).
    n = np.arange(6000)
    w = discretised_cwt(np.sin(2 * np.pi * f * n), np.array([s]), "haar")[0]
    nu = s * f
    analytic = np.sqrt(s) * np.sin(np.pi * nu / 2) ** 2 / (np.pi * nu / 2)
    assert np.abs(w[1000:-1000]).max() == pytest.approx(analytic, rel=5e-3)


@pytest.mark.parametrize("s", [20.0, 60.0, 150.0])
def test_haar_step_response_is_the_triangle(s: float) -> None:
    # A unit step at n0 answers with -sqrt(s) times the integrated Haar wavelet (a triangle of
    # height 1/2 and base s): its trough is -sqrt(s)/2 and its area -sqrt(s) * s / 4.
    n0 = 1000
    y = (np.arange(2000) >= n0).astype(float)
    w = discretised_cwt(y, np.array([s]), "haar")[0]
    near = w[n0 - int(s) : n0 + int(s)]
    assert near.min() == pytest.approx(-np.sqrt(s) / 2, rel=1e-3)
    assert near.sum() == pytest.approx(-np.sqrt(s) * s / 4, rel=2.0 / s)
    assert np.abs(w[: n0 - int(s)]).max() == 0.0


def test_haar_ignores_a_constant() -> None:
    w = discretised_cwt(np.full(3000, 0.7), np.array([5.0, 50.0]), "haar")
    assert np.abs(w[:, 200:-200]).max() < 1e-12


@pytest.mark.parametrize(
    ("wavelet", "spread"),
    # The Haar wavelet's wide band, the sqrt(s) weight of larger scales and its 6-tap kernel
    # at 1 kHz put its peak about 25 % low; the others peak within one row.
    [("haar", 1.4), ("mexh", 1.1), ("cmor1.5-1.0", 1.1)],
)
def test_a_tone_peaks_in_the_row_of_its_frequency(wavelet: str, spread: float) -> None:
    setting = WaveletSetting(sr=8000, wavelet=wavelet, n_scales=48)
    t = np.arange(8000) / 8000
    gram = scalogram_reference(np.sin(2 * np.pi * 1000 * t), setting)
    peak = scale_frequencies(setting)[np.argmax(gram.mean(axis=1))]
    assert 1000 / spread < peak < 1000 * spread


def test_frame_count_and_means() -> None:
    setting = WaveletSetting(sr=1000, frame_ms=4.0, overlap=0.5)
    assert frame_count(4, setting) == 1
    assert frame_count(9, setting) == 3
    means = frame_means(np.arange(10.0)[None, :], setting)
    assert means.tolist() == [[1.5, 3.5, 5.5, 7.5]]


def test_frame_longer_than_the_clip_names_frame_ms() -> None:
    setting = WaveletSetting(sr=8000, frame_ms=70.0)
    short = np.zeros(500, np.float32)
    with pytest.raises(SettingError, match="frame_ms"):
        scalogram_reference(short, setting)
    with pytest.raises(SettingError, match="frame_ms"):
        TorchScalogram(setting)(torch.zeros(2, 500))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_samples_are_refused(bad: float) -> None:
    setting = WaveletSetting(sr=8000, frame_ms=30.0)
    y = np.zeros(1000, np.float32)
    y[10] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        scalogram_reference(y, setting)
    with pytest.raises(ValueError, match="NaN or infinite"):
        TorchScalogram(setting)(torch.from_numpy(y)[None])


def test_malformed_input_is_refused() -> None:
    setting = WaveletSetting(sr=8000, frame_ms=30.0)
    module = TorchScalogram(setting)
    with pytest.raises(ValueError, match="empty"):
        scalogram_reference(np.zeros(0, np.float32), setting)
    with pytest.raises(ValueError, match="1-D"):
        scalogram_reference(np.zeros((2, 1000), np.float32), setting)
    with pytest.raises(ValueError, match="shape"):
        module(torch.zeros(1, 2, 1000))
    with pytest.raises(ValueError, match="float"):
        module(torch.zeros(2, 1000, dtype=torch.int16))
    with pytest.raises(TypeError, match="WaveletSetting"):
        TorchScalogram(object())  # type: ignore[arg-type]


@pytest.mark.parametrize("wavelet", WAVELETS)
def test_gradient_reaches_the_waveform_and_is_right(wavelet: str) -> None:
    setting = WaveletSetting(sr=8000, wavelet=wavelet, frame_ms=8.0, n_scales=12, f_min=300.0)
    module = TorchScalogram(setting)
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.standard_normal((2, 400))).requires_grad_(True)
    weights = torch.from_numpy(rng.standard_normal(module(x.detach()).shape))
    (module(x) * weights).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    direction = torch.from_numpy(rng.standard_normal(x.shape))
    eps = 1e-6
    with torch.no_grad():
        up = (module(x + eps * direction) * weights).sum()
        down = (module(x - eps * direction) * weights).sum()
    numeric = float((up - down) / (2 * eps))
    assert float((x.grad * direction).sum()) == pytest.approx(numeric, rel=1e-4)


def test_gradient_of_silence_is_finite() -> None:
    module = TorchScalogram(WaveletSetting(sr=8000, frame_ms=10.0, n_scales=8, f_min=500.0))
    x = torch.zeros(1, 600, requires_grad=True)
    out = module(x)
    out.sum().backward()
    assert torch.equal(out, torch.zeros_like(out))
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_batch_rows_are_independent(excerpts: dict[int, np.ndarray]) -> None:
    setting = WaveletSetting(sr=8000, wavelet="cmor1.5-1.0", n_scales=24)
    module = TorchScalogram(setting)
    clips = torch.from_numpy(excerpts[8000])
    with torch.no_grad():
        together = module(clips)
        alone = torch.stack([module(clip) for clip in clips])
    assert torch.allclose(together, alone, atol=1e-4)
    assert not torch.allclose(together[0], together[1], atol=1.0)


def test_results_are_deterministic(excerpts: dict[int, np.ndarray]) -> None:
    setting = WaveletSetting(sr=8000, wavelet="mexh", n_scales=24)
    clip = excerpts[8000][1]
    assert np.array_equal(scalogram_reference(clip, setting), scalogram_reference(clip, setting))
    with torch.no_grad():
        a = TorchScalogram(setting)(torch.from_numpy(clip))
        b = TorchScalogram(setting)(torch.from_numpy(clip))
    assert torch.equal(a, b)


def test_filters_are_buffers_that_follow_the_module() -> None:
    setting = WaveletSetting(sr=8000, wavelet="haar", n_scales=8, frame_ms=20.0)
    module = TorchScalogram(setting)
    assert {name for name, _ in module.named_buffers()} == {"taps", "leads"}
    assert module.state_dict() == {}
    x = torch.randn(1, 800)
    with torch.no_grad():
        single = module(x)
        double = module.to(torch.float64)(x.double())
    assert double.dtype == torch.float64
    assert torch.allclose(single.double(), double, atol=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    setting = WaveletSetting(sr=8000, wavelet="cmor1.5-1.0", n_scales=16)
    module = TorchScalogram(setting)
    x = torch.randn(3, 4000)
    with torch.no_grad():
        cpu = module(x)
        gpu = module.to("cuda")(x.to("cuda"))
    assert gpu.device.type == "cuda"
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-3)
