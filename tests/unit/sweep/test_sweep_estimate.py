"""The dry-run cost estimate: unit costs, per-notebook cost models, their precedence."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from specnb.bench.notebook_costs import FIGURE_SECONDS, NOTEBOOK_COSTS
from specnb.bench.unit_costs import (
    REFERENCE_SETTINGS,
    UnitCosts,
    UnitCostsError,
    load_unit_costs,
    write_unit_costs,
)
from specnb.store import ResultsStore
from specnb.sweep import Point, SweepError, expand, load_sweep, main
from specnb.sweep.cost_registry import clear_costs, register_costs
from specnb.sweep.estimate import estimate, measured_timings
from specnb.sweep.papermill_exec import notebook_path
from specnb.sweep.point_projection import notebook_defaults, point_seconds

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def costs() -> UnitCosts:
    """Unit costs where only the training epochs cost anything."""
    return UnitCosts(
        machine="test cpu",
        cpu_count=2,
        torch_threads=2,
        date="2024-01-01",
        train={"sbcnn": 0.01, "resnet18": 0.04},
        predict={"sbcnn": 0.0, "resnet18": 0.0},
        gradient={"sbcnn": 0.002, "resnet18": 0.006},
        represent={kind: 0.0 for kind in REFERENCE_SETTINGS},
        load=0.0,
        augment=0.0,
        attack={"quick": {"fgsm": 0.1, "cw": 1.0}, "paper": {"fgsm": 0.2, "cw": 50.0}},
        attack_gradients={"quick": {"fgsm": 50, "cw": 500}, "paper": {"fgsm": 100, "cw": 9000}},
        notebook_start=0.0,
    )


@pytest.fixture(autouse=True)
def no_fixed_seconds(monkeypatch):
    """Figures cost nothing and listening 1 s per clip and attack, so costs are proportional."""
    module = importlib.import_module("specnb.bench.notebook_costs")

    for name in ("TRAINING_FIGURE_SECONDS", "ATTACK_FIGURE_SECONDS", "REPORT_SECONDS"):
        monkeypatch.setattr(module, name, 0.0)
    monkeypatch.setattr(module, "LISTEN_SECONDS", 1.0)


def train_point(**params: object) -> Point:
    full = {
        "DATASET": "esc10",
        "SETTING": {"repr": "stft", "sr": 22050, "n_fft": 1024},
        "MODEL": "sbcnn",
        "EPOCHS": 10,
        "FOLDS": 2,
        "TEST_SIZE": 0.3,
        "AUGMENT": False,
        **params,
    }
    return Point("train", str(sorted(full.items())), notebook_path("training"), full)


def attack_point(**params: object) -> Point:
    full = {
        "DATASET": "esc10",
        "MODEL": "sbcnn",
        "ATTACKS": ["fgsm"],
        "GRID": "quick",
        "N_SAMPLES": 10,
        "LISTEN": False,
        **params,
    }
    return Point("attack", str(sorted(full.items())), notebook_path("attacks"), full)


def test_training_estimate_scales_with_epochs_folds_clips_and_augmentation(costs):
    base = point_seconds(train_point(), costs)
    # 400 clips, 70 % for training, 1 of 2 folds trained on per fold, 10 epochs, 2 folds
    assert base == pytest.approx(400 * 0.7 * 0.5 * 10 * 2 * 0.01)
    assert point_seconds(train_point(EPOCHS=30), costs) == pytest.approx(3 * base)
    assert point_seconds(train_point(FOLDS=5), costs) == pytest.approx(4 * base)  # 5 x 4/5
    assert point_seconds(train_point(DATASET="esc50"), costs) == pytest.approx(5 * base)
    assert point_seconds(train_point(DATASET="urbansound8k"), costs) == pytest.approx(
        8732 / 400 * base
    )
    assert point_seconds(train_point(AUGMENT=True), costs) == pytest.approx(5 * base)
    assert point_seconds(train_point(MODEL="resnet18"), costs) == pytest.approx(4 * base)
    synthetic = point_seconds(train_point(DATASET="synthetic", N_PER_CLASS=8), costs)
    assert synthetic == pytest.approx(80 / 400 * base)


def test_feature_and_start_costs_add_per_clip_and_per_point(costs):
    slow_audio = replace(costs, train={"sbcnn": 0.0}, load=0.1, augment=0.5, notebook_start=7.0)
    plain = point_seconds(train_point(), slow_audio)
    assert plain == pytest.approx(7.0 + 400 * 0.1)
    augmented = point_seconds(train_point(AUGMENT=True), slow_audio)
    assert augmented == pytest.approx(7.0 + 5 * 400 * 0.1 + 4 * 400 * 0.5)
    # a clip at 8 kHz costs 8000/22050 of the reference STFT
    stft = replace(slow_audio, load=0.0, represent={**costs.represent, "stft": 0.2})
    slow_rate = point_seconds(train_point(SETTING={"repr": "stft", "sr": 8000}), stft)
    assert slow_rate == pytest.approx(7.0 + 400 * 0.2 * 8000 / 22050)


def test_a_sweep_computes_each_settings_features_once(costs):
    # features only: 0.1 s per clip read and 0.2 s per clip represented (STFT at 22,050 Hz)
    audio = replace(
        costs,
        train={"sbcnn": 0.0, "resnet18": 0.0},
        load=0.1,
        represent={**costs.represent, "stft": 0.2},
    )
    first = train_point(SEED=0)
    same = [
        train_point(SEED=1),
        train_point(MODEL="resnet18"),
        train_point(SETTING={"repr": "stft", "sr": 22050, "n_fft": 1024, "colormap": "magma"}),
    ]
    other = [
        train_point(SETTING={"repr": "stft", "sr": 22050, "n_fft": 2048}),
        train_point(AUGMENT=True),
        train_point(DATASET="esc50"),
    ]
    points = [first, *same, *other]
    per_point = point_seconds(first, audio)
    assert per_point == pytest.approx(400 * 0.3)
    cost = estimate(points, {}, {}, costs=audio)
    charged = [per_point, 0, 0, 0, per_point, 5 * per_point, 5 * per_point]
    assert cost.total_seconds == pytest.approx(sum(charged))
    # the first point of a setting is the one that computes its features, done or not
    done = estimate(points, {first.key: "done"}, {}, costs=audio)
    assert done.total_seconds == pytest.approx(sum(charged[1:]))


def test_attack_estimate_scales_with_samples_attacks_grid_and_model(costs):
    base = point_seconds(attack_point(), costs)
    assert base == pytest.approx(10 * 50 * 0.002)
    assert point_seconds(attack_point(N_SAMPLES=40), costs) == pytest.approx(4 * base)
    assert point_seconds(attack_point(ATTACKS=["fgsm", "CW"]), costs) == pytest.approx(11 * base)
    assert point_seconds(attack_point(GRID="paper"), costs) == pytest.approx(2 * base)
    assert point_seconds(attack_point(MODEL="resnet18"), costs) == pytest.approx(3 * base)
    listened = point_seconds(attack_point(ATTACKS=["fgsm", "cw"], LISTEN=True, N_LISTEN=3), costs)
    assert listened == pytest.approx(11 * base + 3 * 2 * 1.0)
    # N_SAMPLES None: every test clip (30 % of 400)
    assert point_seconds(attack_point(N_SAMPLES=None), costs) == pytest.approx(120 * 50 * 0.002)


def test_attack_estimate_counts_one_prediction_pass_per_grid_point(costs):
    """Curves from one run still predict every grid point (FGSM: one gradient, a forward pass
    per eps)."""
    from specnb.attack_eval.grids import GRIDS

    predicting = replace(costs, predict={"sbcnn": 0.001, "resnet18": 0.0})
    extra = point_seconds(attack_point(), predicting) - point_seconds(attack_point(), costs)
    test_clips = 400 * 0.3
    assert extra == pytest.approx(test_clips * 0.001 + 10 * len(GRIDS["quick"]["fgsm"]) * 0.001)


def test_grid_gradients_count_each_attack_run_once():
    from specnb.attack_eval.grids import GRIDS
    from specnb.bench.attack_grid_costs import grid_gradients

    paper = GRIDS["paper"]
    ones = {name: [1.0] * len(grid) for name, grid in paper.items()}
    runs = {name: grid_gradients(paper[name], ones[name])[1] for name in paper}
    assert runs == {
        "fgsm": 1,
        "deepfool": 1,
        "jsma": 1,
        "cw": 5,
        "bim-a": 7,
        "bim-b": 7,
        "lbfgs": 5,
    }
    budgets = list(paper["cw"].budgets)
    assert grid_gradients(paper["cw"], budgets) == (
        sum(budgets),
        9 * (25 + 100 + 1000 + 2000 + 5000),
    )
    with pytest.raises(ValueError, match="point_grads has 2 entries for 20 points"):
        grid_gradients(paper["cw"], [1.0, 2.0])


def test_measured_store_timings_calibrate_the_projections(costs, tmp_path):
    store = ResultsStore(tmp_path)
    store.add_points("s", "02_training.ipynb", {"done1": {}})
    store.mark_point("done1", "running")
    time.sleep(0.05)
    store.mark_point("done1", "done")
    timings = measured_timings(store)
    points = [train_point(EPOCHS=e) for e in (1, 2, 3)] + [attack_point()]
    cost = estimate(points, {points[0].key: "done"}, timings, workers=1, costs=costs)
    train, attack = cost.steps
    count, mean = timings["02_training.ipynb"]
    # the points left keep their projected proportions (more epochs cost more), scaled by
    # what the finished one took against its own projection
    factor = mean / point_seconds(points[0], costs)
    left = point_seconds(points[1], costs) + point_seconds(points[2], costs)
    assert train.source == "calibrated" and train.factor == pytest.approx(factor)
    assert train.seconds == pytest.approx(factor * left)
    assert point_seconds(points[2], costs) > point_seconds(points[1], costs)
    assert (train.points, train.to_run, train.measured) == (3, 2, count)
    assert attack.source == "projected" and attack.seconds == pytest.approx(1.0)
    text = str(cost)
    assert "measured / projected over 1 finished points" in text
    assert "projected from unit costs" in text
    assert "test cpu, 2 CPUs, 2 torch threads, 2024-01-01" in text
    # a notebook without a cost model takes the mean of its finished points
    other = Point("extra", "x1", Path("09_unknown.ipynb"), {})
    (step,) = estimate([other], {}, {"09_unknown.ipynb": (2, 30.0)}, costs=costs).steps
    assert step.source == "measured" and step.seconds == pytest.approx(30.0)


def test_unknown_notebooks_and_unknown_models_give_no_estimate(costs):
    unknown = Point("transfer", "t1", Path("09_unknown.ipynb"), {"MODEL": "sbcnn"})
    odd_model = train_point(MODEL="vgg99")
    assert "09_unknown.ipynb" not in NOTEBOOK_COSTS
    assert point_seconds(unknown, costs) is None and point_seconds(odd_model, costs) is None
    cost = estimate([unknown, odd_model, train_point()], {}, {}, workers=2, costs=costs)
    transfer, train = cost.steps
    assert transfer.source == "none" and transfer.seconds is None
    assert train.unestimated == 1 and train.seconds == pytest.approx(
        point_seconds(train_point(), costs)
    )
    assert cost.unestimated == ["transfer", "train"]
    assert "no estimate" in str(cost) and "on 2 worker(s)" in str(cost)


def test_missing_or_corrupt_unit_costs_file_is_named(costs, tmp_path):
    missing = tmp_path / "nothing.json"
    with pytest.raises(UnitCostsError, match="nothing.json.*specnb bench sweep"):
        load_unit_costs(missing)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    with pytest.raises(UnitCostsError, match="corrupt.json.*not valid JSON"):
        load_unit_costs(corrupt)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"machine": "x"}))
    with pytest.raises(UnitCostsError, match="partial.json"):
        load_unit_costs(partial)
    with pytest.raises(SweepError, match="corrupt.json"):
        estimate([train_point()], {}, {}, costs=corrupt)
    # a grid with no cost model reads no file
    assert estimate([Point("s", "k", Path("x.ipynb"), {})], {}, {}, costs=missing).steps
    written = write_unit_costs(costs, tmp_path / "costs.json")
    assert load_unit_costs(written) == costs


def test_notebook_defaults_fill_parameters_a_sweep_leaves_out(notebook_paths):
    defaults = notebook_defaults(notebook_paths["training"])
    assert {"EPOCHS", "FOLDS", "MODEL", "SETTING"} <= set(defaults)
    assert notebook_defaults(Path("no/such.ipynb")) == {}


def test_cli_dry_run_prints_seconds_per_point_of_the_paper_grid(tmp_path, capsys):
    out = tmp_path / "paper"
    assert (
        main(
            [str(REPO / "sweeps" / "paper.yaml"), "--dry-run", "--out", str(out), "--workers", "4"]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert not out.exists()
    rows = {
        line.split()[0]: line
        for line in text.splitlines()
        if line.startswith("  ") and line.split()[1:2] and line.split()[1].endswith(".ipynb")
    }
    for step in ("train", "attack", "report"):
        assert "projected from unit costs" in rows[step], rows
    points = expand(load_sweep(REPO / "sweeps" / "paper.yaml"))
    for step in ("train", "attack"):
        count = sum(p.step == step for p in points)
        assert rows[step].split()[2:4] == [str(count), str(count)]
    assert "CPU hours" in text and "on 4 worker(s)" in text and "unit costs measured on" in text


def test_study_notebooks_cost_their_variants(costs):
    base = dict(
        DATASET="esc10",
        EPOCHS=4,
        FOLDS=2,
        TEST_SIZE=0.3,
        ATTACKS=["fgsm"],
        GRID="quick",
        N_SAMPLES=10,
    )
    stft = {"repr": "stft", "sr": 22050, "n_fft": 1024}
    one = point_seconds(
        Point(
            "architectures",
            "a1",
            Path("07_architectures.ipynb"),
            {**base, "SETTING": stft, "MODELS": ["sbcnn"]},
        ),
        costs,
    )
    two = point_seconds(
        Point(
            "architectures",
            "a2",
            Path("07_architectures.ipynb"),
            {**base, "SETTING": stft, "MODELS": ["sbcnn", "sbcnn"]},
        ),
        costs,
    )
    assert two - one == pytest.approx(one - costs.notebook_start - FIGURE_SECONDS)
    colours = point_seconds(
        Point(
            "colour",
            "c",
            Path("05_colour_maps.ipynb"),
            {**base, "SETTING": stft, "MODEL": "sbcnn", "COLORMAPS": ["viridis", "hsv-uniform"]},
        ),
        costs,
    )
    assert colours == pytest.approx(two)
    transfer = {**base, "SETTINGS": {"STFT": stft}, "MODELS": ["sbcnn", "resnet18"]}
    single = point_seconds(Point("t", "t", Path("04_transferability.ipynb"), transfer), costs)
    double = point_seconds(
        Point(
            "t",
            "t",
            Path("04_transferability.ipynb"),
            {**transfer, "SETTINGS": {"A": stft, "B": stft}},
        ),
        costs,
    )
    assert double - single == pytest.approx(single - costs.notebook_start - FIGURE_SECONDS)


def test_the_sweep_engine_imports_no_benchmark_and_estimates_from_the_registry(costs, tmp_path):
    code = (
        "import sys, specnb.sweep, specnb.sweep.estimate; "
        "print(sorted(m for m in sys.modules if m.startswith('specnb.bench')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    point = train_point()
    projected = estimate([point], {}, {}, costs=costs).steps[0]
    assert projected.source == "projected" and projected.seconds == point_seconds(point, costs) > 0
    clear_costs()
    assert point_seconds(point, costs) is None
    assert estimate([point], {}, {}, costs=costs).steps[0].source == "none"
    register_costs(
        {"02_training.ipynb": lambda params, unit: 2.0 * params["EPOCHS"]},
        lambda device, defaults, source: (costs, "test table"),
    )
    assert estimate([point], {}, {}).steps[0].seconds == 20.0
