"""The inverse of each representation: forward then inverse recovers the input.

Tolerances, measured on three synthetic clips at 8 kHz (``n_fft=512``) on an Intel Xeon
(Sapphire Rapids); what may legitimately differ is stated beside each.
"""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from specnb.data import load_dataset
from specnb.representations import inverse as inv
from specnb.representations import make_setting, reference
from specnb.representations.images import normalise, to_image
from specnb.representations.reference import TOP_DB
from specnb.representations.torch_backend import mel_filters, mfcc_matrix
from specnb.representations.wavelets import cwt_reference, frame_means

SR = 8000
STFT = make_setting("stft", sr=SR, n_fft=512)
MEL = make_setting("mel", sr=SR, n_fft=512, n_mels=64)
MFCC = make_setting("mfcc", sr=SR, n_fft=512, hop_length=256, n_mels=64, n_mfcc=20)


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    data = load_dataset("synthetic", n_per_class=1)
    return data.load(data.clips[7], SR)[:SR]


def _above_floor(level: np.ndarray, amin: float) -> np.ndarray:
    """Cells the forward dB scale kept: above its 80 dB floor and above librosa's ``amin``."""
    return level > max(float(level.max()) * 10 ** (-TOP_DB / 20), amin) * 1.01


def test_stft_db_back_to_magnitude(clip):
    s = inv.spectrum(clip, STFT)
    level = np.abs(s)
    back = inv.raw_to_magnitude(reference(clip, STFT), STFT, s)
    keep = _above_floor(level, 1e-5)
    # float32 dB (about 1e-6 dB of rounding) then exp: measured 1.3e-6 relative.
    np.testing.assert_allclose(back[keep], level[keep], rtol=2e-5)
    # Below the floor the forward path kept the floor: that is all the inverse can give back.
    floor = float(level.max()) * 10 ** (-TOP_DB / 20)
    assert np.all(back >= floor * 0.999)


def test_mel_db_back_to_power_and_mel_power_back_to_stft(clip):
    s = inv.spectrum(clip, MEL)
    power = mel_filters(MEL).astype(np.float64) @ np.abs(s).astype(np.float64) ** 2
    db = reference(clip, MEL)
    level = inv.undo_db(db, MEL, float(power.max()))
    keep = _above_floor(np.sqrt(power), 1e-5)
    # float32 Mel power and dB on the forward path: measured 1e-6 relative.
    np.testing.assert_allclose(level[keep], power[keep], rtol=1e-4)
    magnitude = inv.raw_to_magnitude(db, MEL, s)
    again = mel_filters(MEL).astype(np.float64) @ magnitude.astype(np.float64) ** 2
    # Non-negative least squares stops at its own tolerance: the Mel power of its magnitude is
    # within 1.6 to 5.3 % (Frobenius) of the clip's, within 1.1 to 1.7 dB in 99 % of cells.
    assert np.linalg.norm(again - power) / np.linalg.norm(power) < 0.1
    again_db = librosa.power_to_db(again, ref=np.max, top_db=TOP_DB)
    assert np.percentile(np.abs(again_db - db), 99) < 3.0


def test_mfcc_back_to_mel_db(clip):
    coefficients = reference(clip, MFCC)
    mel_db = inv.mfcc_to_mel_db(coefficients, MFCC)
    forward = mfcc_matrix(MFCC).double().numpy()
    # The pseudo-inverse is a right inverse of the (full row rank) liftered DCT: float64 only.
    np.testing.assert_allclose(
        forward @ mel_db, coefficients, atol=1e-9 * np.abs(coefficients).max()
    )
    # With every coefficient kept, the Mel dB themselves come back.
    full = MFCC.replace(n_mfcc=64)
    s = inv.spectrum(clip, full)
    true_db = librosa.power_to_db(mel_filters(full) @ np.abs(s) ** 2, top_db=TOP_DB)
    recovered = inv.mfcc_to_mel_db(reference(clip, full), full)
    # librosa's float32 MFCC against our float64 inverse: measured 2e-5 dB.
    np.testing.assert_allclose(recovered, true_db, atol=1e-3)
    # The whole way back to an STFT magnitude, then forward again: NNLS's tolerance, measured
    # 5e-8 to 6.6e-4 of the largest coefficient.
    magnitude = inv.raw_to_magnitude(coefficients, MFCC)
    again = forward @ librosa.power_to_db(mel_filters(MFCC) @ magnitude**2, top_db=None)
    assert np.abs(again - coefficients).max() < 5e-3 * np.abs(coefficients).max()


def test_stft_magnitude_back_to_waveform(clip):
    s = inv.spectrum(clip, STFT)
    exact = inv.magnitude_to_audio(np.abs(s), STFT, len(clip), angle=np.angle(s))
    # The inverse STFT of the clip's own STFT: float32 rounding only (measured 1.5e-8).
    np.testing.assert_allclose(exact, clip, atol=1e-5)
    target = np.abs(s)

    def convergence(n_iter: int) -> float:
        wave = inv.magnitude_to_audio(target, STFT, len(clip), n_iter=n_iter)
        again = np.abs(inv.spectrum(wave, STFT))
        return float(np.linalg.norm(again - target) / np.linalg.norm(target))

    # Griffin-Lim from a seeded random phase: spectral convergence measured 0.20 to 0.24 after
    # 8 rounds, 0.07 to 0.12 after 32; a different BLAS changes the digits, not the trend.
    few, many = convergence(8), convergence(32)
    assert many < few and many < 0.2
    assert np.array_equal(
        inv.magnitude_to_audio(target, STFT, len(clip), n_iter=4),
        inv.magnitude_to_audio(target, STFT, len(clip), n_iter=4),
    )


def test_scalogram_db_back_to_frame_means(clip):
    setting = make_setting("wavelet", sr=SR)
    means = frame_means(np.abs(cwt_reference(clip, setting)), setting)
    back = inv.undo_db(reference(clip, setting), setting, float(means.max()))
    keep = _above_floor(means, 1e-5)
    # float32 dB on the forward path: measured 2.2e-7 relative.
    np.testing.assert_allclose(back[keep], means[keep], rtol=1e-5)
    with pytest.raises(ValueError, match="setting"):
        inv.raw_to_magnitude(reference(clip, setting), setting)


def test_shapes_and_bad_input(clip):
    for setting in (STFT, MEL, MFCC):
        assert inv.raw_shape(setting, len(clip)) == reference(clip, setting).shape
    with pytest.raises(ValueError, match="ref"):
        inv.undo_db(np.zeros((2, 2)), STFT, ref=0.0)
    with pytest.raises(ValueError, match="setting"):
        inv.mel_to_stft(np.ones((257, 3)), STFT)
    with pytest.raises(ValueError, match="setting"):
        inv.mfcc_to_mel_db(np.ones((64, 3)), MEL)
    with pytest.raises(TypeError, match="setting"):
        inv.framing("stft")  # type: ignore[arg-type]


def test_model_image_back_to_raw():
    data = load_dataset("synthetic", n_per_class=1)
    # 32768 samples give 257 frames of 257 bins: a square image of the clip's own size, so
    # that no resize stands between the raw representation and its image.
    square = data.load(data.clips[7], SR)[: 256 * 128]
    gray = STFT.replace(colormap="gray")
    raw = reference(square, gray)
    assert raw.shape == (257, 257)
    value_range = normalise(raw)[1]
    image = to_image(raw, "gray", size=257)
    back = inv.from_image(image, gray, len(square), value_range)
    # Gray is read back exactly; float32 scaling to [0, 1] and back: measured 1.1e-5 dB.
    np.testing.assert_allclose(back, raw, atol=1e-3)
    # STFT and Mel dB lie in (-80, 0) relative to the clip's maximum: the default range.
    assert float(raw.min()) == -TOP_DB and float(raw.max()) == 0.0
    np.testing.assert_allclose(inv.from_image(image, gray, len(square)), raw, atol=1e-3)
    full = image
    with pytest.raises(ValueError, match="value_range"):
        inv.from_image(full, MFCC.replace(colormap="gray"), len(square))
    with pytest.raises(ValueError, match="value_range"):
        inv.from_image(full, gray, len(square), (0.0, -80.0))
