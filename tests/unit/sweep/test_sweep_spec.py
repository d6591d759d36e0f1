"""Sweep files: the YAML format and its errors, grid expansion, dependencies and dry runs
that check every point before anything runs."""

from __future__ import annotations

import pytest
from sweep_files import REPO, write

from specnb.sweep import SweepError, expand, load_sweep, main, point_key
from specnb.sweep.notebooks import declared_parameters


def test_grid_expansion_merges_defaults_products_points_and_fields(tmp_path, notebooks):
    sweep = write(
        tmp_path / "grid.yaml",
        f"""
name: grid
notebook_dir: {notebooks}
defaults: {{SLEEP: 0.5, MARKER: m.log}}
steps:
  - name: a
    notebook: marker.ipynb
    parameters: {{FAIL: false, LABEL: {{kind: x, size: 1}}}}
    product: {{GROUP: [1, 2], LABEL.size: [3, 4]}}
    points: [{{SLEEP: 0.0}}, {{MARKER: other.log}}]
  - name: b
    notebook: marker.ipynb
    grid:
      - product: {{GROUP: [7]}}
      - points: [{{GROUP: 8}}, {{GROUP: 9}}]
""",
    )
    points = expand(load_sweep(sweep))
    a = [p.params for p in points if p.step == "a"]
    b = [p.params for p in points if p.step == "b"]
    assert len(a) == 2 * 2 * 2 and len(b) == 3
    assert [p["GROUP"] for p in b] == [7, 8, 9]
    assert sorted((p["GROUP"], p["LABEL"]["size"]) for p in a[:4]) == [
        (1, 3),
        (1, 4),
        (2, 3),
        (2, 4),
    ]
    assert all(p["LABEL"]["kind"] == "x" for p in a)  # a field set, the others kept
    assert [p["SLEEP"] for p in a] == [0.0] * 4 + [0.5] * 4  # a point overrides defaults
    assert [p["MARKER"] for p in a] == ["m.log"] * 4 + ["other.log"] * 4
    assert all(p["SLEEP"] == 0.5 and "FAIL" not in p for p in b)
    keys = [p.key for p in points]
    assert len(set(keys)) == len(keys)
    assert keys[0] == point_key(notebooks / "marker.ipynb", dict(reversed(a[0].items())))
    assert point_key("marker.ipynb", {**a[0], "GROUP": 99}) != keys[0]


def test_quick_and_paper_sweep_files_are_valid():
    points = expand(load_sweep(REPO / "sweeps" / "quick.yaml"))
    steps = {p.step: [q for q in points if q.step == p.step] for p in points}
    assert list(steps) == ["representations", "train", "attack", "report"]
    assert {p.params["SETTING"]["repr"] for p in steps["attack"]} == {"stft", "mfcc", "wavelet"}
    assert {p.params["SEED"] for p in steps["attack"]} == {0, 1, 2}
    # three STFT window lengths: the report's Figure 4 is a curve, not a dot
    windows = {
        p.params["SETTING"].get("win_length")
        for p in steps["attack"]
        if p.params["SETTING"]["repr"] == "stft"
    }
    assert len(windows) >= 3
    assert all(p.params["INTERACTIVE"] is False for p in points if "INTERACTIVE" in p.params)
    paper = expand(load_sweep(REPO / "sweeps" / "paper.yaml"))
    trained = [p for p in paper if p.step == "train"]
    attacked = [p for p in paper if p.step == "attack"]
    assert len(trained) == 252 and len(attacked) == 240
    transfers = [p for p in paper if p.step == "transfer"]
    assert sorted(p.params["DATASET"] for p in transfers) == ["esc10", "esc50", "urbansound8k"]
    # every run a transfer point compares is a training point of the same protocol
    for point in transfers:
        for setting in point.params["SETTINGS"].values():
            for model in point.params["MODELS"]:
                assert any(
                    t.params["SETTING"] == setting
                    and t.params["MODEL"] == model
                    and t.params["DATASET"] == point.params["DATASET"]
                    and all(
                        t.params[k] == point.params[k]
                        for k in (
                            "EPOCHS",
                            "FOLDS",
                            "PATIENCE",
                            "BATCH_SIZE",
                            "LR",
                            "AUGMENT",
                            "TEST_SIZE",
                            "SEED",
                            "RECIPE",
                        )
                    )
                    for t in trained
                ), (setting, model)
    assert {p.params["DATASET"] for p in trained} == {"esc10", "esc50", "urbansound8k"}
    assert {p.params["SETTING"]["repr"] for p in trained} == {"mfcc", "stft", "mel", "wavelet"}
    assert {p.params["MODEL"] for p in trained} == {
        "resnet18",
        "resnet34",
        "resnet56",
        "alexnet",
        "googlenet",
        "sbcnn",
        "lstm",
    }


@pytest.mark.parametrize(
    "values, words",
    [
        ("SETTING: {repr: stft, n_fft: -5}", "SETTING: stft.n_fft must be a positive integer"),
        ("MODEL: resnet99", "MODEL: unknown model 'resnet99'; known: resnet18"),
        ("DATASET: esc11", "DATASET: unknown dataset 'esc11'; known: esc50"),
    ],
)
def test_dry_run_checks_every_point_before_anything_runs(tmp_path, capsys, values, words):
    sweep = write(
        tmp_path / "bad.yaml",
        f"""
name: bad-point
defaults: {{DATASET: synthetic, MODEL: sbcnn, SETTING: {{repr: stft, sr: 8000, n_fft: 256}}}}
steps:
  - name: train
    notebook: training
    points:
      - {{}}
      - {{{values}}}
""",
    )
    out = tmp_path / "out"
    assert main([str(sweep), "--dry-run", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    bad = [p for p in expand(load_sweep(sweep)) if p.params != expand(load_sweep(sweep))[0].params]
    assert f"steps[0] (train), point {bad[0].key}: {words}" in error and str(sweep) in error
    assert not out.exists()  # nothing ran, nothing was written


def test_declared_parameters_include_lines_papermill_cannot_read(notebook_paths):
    # papermill's line reader skips assignments whose comment holds "=" (MAX_CLASSES here)
    names = declared_parameters(notebook_paths["representations"])
    assert {"DATASET", "DATA_PATH", "MAX_CLASSES", "SETTINGS", "INTERACTIVE"} <= names
    assert "STORE" not in names


STEP = "  - {notebook: marker.ipynb, product: {GROUP: [1]}}\n"


@pytest.mark.parametrize(
    "body, where, words",
    [
        ("name: x\nsteps: [\n", "bad YAML", ["line"]),
        ("name: x\nsteps: []\n", "steps", ["non-empty"]),
        ("steps:\n" + STEP, "name", ["name"]),
        (
            "name: x\nsteps:\n  - {notebook: trainng}\n",
            "steps[0].notebook",
            ["trainng", "training"],
        ),
        (
            "name: x\nsteps:\n  - {notebook: marker.ipynb, product: {GROUP: []}}\n",
            "product.GROUP",
            ["empty"],
        ),
        ("name: x\nsteps:\n  - {notebook: marker.ipynb, points: []}\n", "points", ["non-empty"]),
        (
            "name: x\nsteps:\n  - {notebook: marker.ipynb, product: {EPOCHS: [1]}}\n",
            "EPOCHS",
            ["marker.ipynb", "no parameter EPOCHS"],
        ),
        (
            "name: x\nsteps:\n  - {notebook: marker.ipynb, parameters: {STORE: a.db}}\n",
            "parameters.STORE",
            ["runner"],
        ),
        ("name: x\ndefaults: {DEVICE: cuda}\nsteps:\n" + STEP, "defaults.DEVICE", ["no notebook"]),
        ("name: x\nstep:\n" + STEP, "top level.step", ["unknown key"]),
        ("name: x\nsteps:\n  - {notebook: marker.ipynb, after: train}\n", "after", ["'train'"]),
        (
            "name: x\nsteps:\n  - {name: a, notebook: marker.ipynb, after: b}\n"
            "  - {name: b, notebook: marker.ipynb, after: a}\n",
            "steps",
            ["cycle", "a -> b"],
        ),
        (
            "name: x\nsteps:\n  - {name: a, notebook: marker.ipynb, points: [{GROUP: 1}]}\n"
            "  - {name: b, notebook: marker.ipynb, points: [{GROUP: 2}],\n"
            "     after: a, match: [GROUP]}\n",
            "steps[1] (b).after",
            ['no point of step a has {"GROUP": 2}'],
        ),
        (
            "name: x\nsteps:\n  - {notebook: marker.ipynb, product: {GROUP.size: [1]}}\n",
            "GROUP.size",
            ["no mapping"],
        ),
        (
            "name: x\nsteps:\n  - {notebook: marker.ipynb, points: [{GROUP: 1}, {GROUP: 1}]}\n",
            "steps[0]",
            ["repeats"],
        ),
    ],
)
def test_invalid_sweep_files_name_the_file_and_key(tmp_path, notebooks, body, where, words):
    sweep = write(tmp_path / "bad.yaml", f"notebook_dir: {notebooks}\n{body}")
    with pytest.raises(SweepError) as info:
        expand(load_sweep(sweep))
    message = str(info.value)
    assert message.startswith(f"{sweep}: ") and where in message
    for word in words:
        assert word in message


def test_missing_sweep_file_and_cli_exit_code(tmp_path, capsys):
    assert main([str(tmp_path / "none.yaml"), "--dry-run"]) == 2
    assert "none.yaml: no such sweep file" in capsys.readouterr().err


def test_dependencies_follow_after_and_match(tmp_path, notebooks):
    sweep = write(
        tmp_path / "deps.yaml",
        f"""
name: deps
notebook_dir: {notebooks}
steps:
  - name: report
    notebook: marker.ipynb
    parameters: {{LABEL: report}}
    after: [attack]
  - name: attack
    notebook: marker.ipynb
    product: {{GROUP: [1, 2], LABEL: [fgsm, cw]}}
    after: train
    match: [GROUP]
  - name: train
    notebook: marker.ipynb
    product: {{GROUP: [1, 2], SLEEP: [0, 1]}}
""",
    )
    spec = load_sweep(sweep)
    assert [s.name for s in spec.steps] == ["train", "attack", "report"]
    points = expand(spec)
    train = {p.key: p for p in points if p.step == "train"}
    for p in (p for p in points if p.step == "attack"):
        assert {train[k].params["GROUP"] for k in p.after} == {p.params["GROUP"]}
        assert len(p.after) == 2
    (report,) = [p for p in points if p.step == "report"]
    assert len(report.after) == 4


@pytest.mark.parametrize("name", ["/abs/path", "../up", "a/b", ".hidden", "two words"])
def test_sweep_name_must_be_a_plain_folder_name(tmp_path, name: str) -> None:
    text = (REPO / "sweeps" / "quick.yaml").read_text()
    lines = [f"name: {name!r}" if line.startswith("name:") else line for line in text.splitlines()]
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SweepError, match="name"):
        load_sweep(path)
