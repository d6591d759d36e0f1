"""``specnb bench training``: the four loops, the FLOP count and the measured peak."""

from __future__ import annotations

import re

import pytest
import torch

from specnb.bench import training as bench_training
from specnb.cli import main as cli_main

pytestmark = pytest.mark.usefixtures("one_thread")


def test_step_flops_match_sbcnn_by_hand() -> None:
    # forward multiply-adds of the three 5x5 convolutions, the two dense layers
    forward = 124 * 124 * 24 * 75 + 58 * 27 * 48 * 600 + 25 * 2 * 48 * 1200 + 2400 * 64 + 64 * 10
    # backward: weight gradients of every layer, input gradients of all but the first
    backward = 2 * forward - 124 * 124 * 24 * 75
    assert bench_training.step_flops("sbcnn", 2) == pytest.approx(
        2 * (forward + backward), rel=0.02
    )


def test_peaks_are_positive_rates_and_the_peak_is_the_better_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert bench_training.matmul_peak(torch.float32, size=128, repeats=2) > 0
    assert bench_training.conv_peak(torch.float32, channels=16, side=8, repeats=2) > 0
    monkeypatch.setattr(bench_training, "matmul_peak", lambda dtype: 90.0)
    monkeypatch.setattr(bench_training, "conv_peak", lambda dtype: 225.0)
    assert bench_training.measured_peak(torch.float32) == 225.0


@pytest.mark.parametrize("forced", ["fp32", "bf16"])
def test_bench_training_prints_every_loop_against_the_plain_one(
    forced: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPECNB_PRECISION", forced)
    peaks = {torch.float32: 100.0, torch.bfloat16: 400.0}
    monkeypatch.setattr(bench_training, "measured_peak", lambda dtype: peaks[dtype])
    args = [
        "bench",
        "training",
        "--images",
        "4",
        "--batch-size",
        "2",
        "--repeats",
        "1",
        "--models",
        "sbcnn",
    ]
    assert cli_main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    (resolved,) = [line for line in lines if line.split()[:3] == ["sbcnn", "resolved", "precision"]]
    label = {"fp32": "fp32", "bf16": "bf16+channels-last"}[forced]
    assert f"precision {label} (forced by $SPECNB_PRECISION" in resolved
    rows = [line for line in lines if line.startswith("sbcnn") and "images/s" in line]
    assert [row.split()[1:3] for row in rows] == [
        ["plain", "fp32"],
        ["ours", "fp32"],
        ["ours", "bf16+cl"],
        ["ours", "recipe"],
    ]
    assert "x 1.00 vs plain" in rows[0]
    rate, gflops, share = (
        float(x)
        for x in re.search(
            r"([\d.]+) images/s .* ([\d.]+) GFLOP/s = +([\d.]+) % of the fp32 peak", rows[0]
        ).groups()
    )
    assert share == pytest.approx(gflops, abs=0.1)  # the fp32 peak is 100 GFLOP/s here
    assert "bf16 peak" in rows[2] and "bf16 peak" not in rows[1]
    # the recipe row runs in the resolved precision, which the forced one overrides
    assert ("bf16 peak" in rows[3]) == (forced == "bf16")
    assert lines[-1].startswith("peaks measured here") and "fp32 100.0 GFLOP/s" in lines[-1]
