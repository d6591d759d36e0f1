"""The command-line interfaces other work relies on: ``specnb features`` and the benchmark."""

from __future__ import annotations

import subprocess
import sys

import librosa
import numpy as np
import pytest

from specnb.cli import main


@pytest.fixture(scope="module")
def stereo_48k(esc50_root):
    """A real ESC-50 clip stored as 48 kHz stereo OGG."""
    import soundfile as sf

    for path in sorted((esc50_root / "audio").glob("*.ogg")):
        info = sf.info(path)
        if info.samplerate == 48000 and info.channels == 2:
            return path
    pytest.skip("no 48 kHz stereo clip found")


def test_features_raw_stft_equals_librosa(stereo_48k, tmp_path):
    out = tmp_path / "stft.npy"
    code = main(
        [
            "features",
            str(stereo_48k),
            "--repr",
            "stft",
            "--set",
            "n_fft=1024",
            "--set",
            "sr=16000",
            "--raw",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    y, _ = librosa.load(stereo_48k, sr=16000)
    expected = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=1024)), ref=np.max, top_db=80)
    got = np.load(out)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=0.02)


def test_features_reference_mfcc_and_image(stereo_48k, tmp_path):
    raw_out, img_out = tmp_path / "mfcc.npy", tmp_path / "img.npy"
    assert (
        main(
            [
                "features",
                str(stereo_48k),
                "--repr",
                "mfcc",
                "--backend",
                "reference",
                "--set",
                "n_mfcc=13",
                "--set",
                "dct_norm=none",
                "--raw",
                "--out",
                str(raw_out),
            ]
        )
        == 0
    )
    y, sr = librosa.load(stereo_48k, sr=22050)
    expected = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, norm=None, hop_length=1024)
    np.testing.assert_allclose(np.load(raw_out), expected, rtol=1e-4, atol=1e-3)
    assert (
        main(
            [
                "features",
                str(stereo_48k),
                "--repr",
                "wavelet",
                "--set",
                "wavelet=haar",
                "--set",
                "colormap=magma",
                "--out",
                str(img_out),
            ]
        )
        == 0
    )
    image = np.load(img_out)
    assert image.shape == (3, 128, 128) and image.min() >= 0 and image.max() <= 1


def test_features_mfcc_image_per_coefficient(stereo_48k, tmp_path):
    from specnb.data.audio import load_audio
    from specnb.representations import make_setting, represent
    from specnb.representations.images import setting_image

    out = tmp_path / "rows.npy"
    args = ["--repr", "mfcc", "--set", "per_coefficient=true", "--out", str(out)]
    assert main(["features", str(stereo_48k), *args]) == 0
    setting = make_setting("mfcc", per_coefficient=True)
    raw = represent(load_audio(stereo_48k, setting.sr), setting)
    np.testing.assert_array_equal(np.load(out), setting_image(raw, setting).numpy())
    assert not np.array_equal(np.load(out), setting_image(raw, make_setting("mfcc")).numpy())


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--repr", "stft", "--set", "n_fft=256", "--set", "win_length=512"], "win_length"),
        (["--repr", "mfcc", "--set", "lifter=-1"], "lifter"),
        (["--repr", "mel", "--set", "sr=0"], "sr"),
        (["--repr", "stft", "--set", "bogus=1"], "bogus"),
        (["--repr", "wavelet", "--set", "frame_ms=9000"], "frame_ms"),
        (["--repr", "mfcc", "--set", "per_coefficient=maybe"], "per_coefficient"),
    ],
)
def test_features_rejects_impossible_settings(stereo_48k, tmp_path, capsys, args, needle):
    out = tmp_path / "x.npy"
    out.write_bytes(b"keep me")
    assert main(["features", str(stereo_48k), *args, "--out", str(out)]) == 2
    assert needle in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"  # nothing already written is lost


def test_features_names_a_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.wav"
    assert main(["features", str(missing), "--repr", "stft", "--out", str(tmp_path / "o.npy")]) == 2
    assert "nope.wav" in capsys.readouterr().err


def test_bench_representations_prints_ratios_and_geomean():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "specnb",
            "bench",
            "representations",
            "--clips",
            "2",
            "--data",
            "synthetic",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("geomean speedup: ")
    ratios = [float(line.rsplit("ratio", 1)[1]) for line in lines if " ratio " in line]
    assert len(ratios) == 15 and all(r > 0 for r in ratios)
    geomean = float(lines[-1].split(":")[1])
    assert geomean == pytest.approx(float(np.exp(np.mean(np.log(ratios)))), rel=0.02)


def test_specnb_command_reports_os_errors_with_exit_2(tmp_path, capsys) -> None:
    import soundfile as sf

    wav = tmp_path / "tone.wav"
    sf.write(wav, np.sin(np.arange(8000) * 0.1) * 0.1, 8000)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(
        [
            "features",
            str(wav),
            "--repr",
            "stft",
            "--set",
            "sr=8000",
            "--out",
            str(blocker / "x.npy"),
        ]
    )
    assert code == 2
    assert "specnb: error:" in capsys.readouterr().err
