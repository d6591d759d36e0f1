"""The paper's claims: which of our runs each compares, its test and the paper's answer.

Every :class:`Claim` selects groups of runs from a :class:`ClaimData` (the victim model's runs
with a standard colour map for the representation tables; every model on the settings it
shares with ResNet-18 for Table 6...; :mod:`specnb.report.claim_groups`), decides from their
paired per-seed comparison (positive: what the paper says) and reads the paper's own answer
from its tables (:mod:`specnb.report.claim_answers`). :mod:`specnb.report.verdicts` assembles
the verdict; the rule is written in :meth:`Claim.rule_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Mapping, Optional

from specnb.report.claim_answers import (
    MIN_ROWS,
    Test,
    at_least,
    correlation,
    difference,
    lead,
    paper_attack_cost,
    paper_hsv,
    paper_inverse,
    paper_lead,
    paper_mfcc,
    paper_row,
    paper_table6,
    trail,
)
from specnb.report.claim_groups import (
    ClaimData,
    Selection,
    accuracy_groups,
    attack_groups,
    hsv_groups,
    inverse_groups,
    model_groups,
    row_groups,
    transfer_groups,
    waveform_groups,
)
from specnb.report.report_table import ReportTable

__all__ = ["CLAIMS", "Claim", "ClaimData", "Selection"]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and how our results decide it."""

    key: str
    where: str
    text: str
    statistic_name: str
    groups: Callable[[ClaimData], Selection]
    test: Test
    paper: Optional[Callable[[Mapping[int, ReportTable]], str]]
    paper_text: str = ""
    unit: str = "test clips"
    threshold: float = 0.0
    min_groups: int = 2
    number: str = "{:+.2f}"
    group_number: str = "{:.1f} %"
    kind: Literal["lead", "difference", "level", "correlation"] = "lead"
    cells: str = "dataset"

    def fmt(self, value: float) -> str:
        return self.number.format(value)

    def fmt_group(self, value: float) -> str:
        return self.group_number.format(value)

    def rule_text(self) -> str:
        """How the verdict follows from the interval."""
        at = f"{self.threshold:g}"
        if self.kind == "correlation":
            return (
                f"decided only across ≥ {MIN_ROWS} settings rows (each the mean of its seeds; "
                "fewer rows are described, not decided): supported when the 95 % Fisher z "
                "interval of r lies above 0, contradicted when below, inconclusive otherwise."
            )
        paired = (
            f"Groups are paired per training seed on the {self.cells} they share (the same "
            "test clips where the store names them), and the 95 % interval is a t interval "
            "(seeds − 1 degrees of freedom) over the per-seed paired values. "
        )
        if self.kind == "level":
            paired = (
                "The 95 % interval is a t interval (seeds − 1 degrees of freedom) over the "
                "per-seed values. "
            )
        if self.kind == "lead":
            decision = (
                f"Supported when the interval of the difference to every other group lies "
                f"above {at}; contradicted when some other group is significantly ahead "
                "(Bonferroni-corrected over the others); inconclusive otherwise."
            )
        else:
            decision = (
                f"Supported when the interval of {self.statistic_name} lies above {at}, "
                f"contradicted when below, inconclusive when it contains {at}."
            )
        return (
            f"{paired}{decision} Not comparable: a model whose accuracy interval reaches chance,"
            " transfers with too few examples, costs whose grid never reaches a 0.9 fooling rate."
        )


# ------------------------------------------------------------------ the claims
def _claims() -> dict[str, Claim]:
    claims = []
    r = "r(accuracy, mean AUC) across rows, centred per dataset"
    inverse = (
        "accuracy and robustness are inversely related (a more accurate setting is "
        "fooled more easily: higher AUC)"
    )
    for number in (2, 3, 4, 7):
        claims.append(
            Claim(
                f"table{number}_inverse",
                f"Table {number}",
                inverse,
                r,
                inverse_groups((number,)),
                correlation,
                paper_inverse((number,)),
                min_groups=4,
                number="{:+.2f}",
                group_number="{:.2f}",
                kind="correlation",
            )
        )
    claims.append(
        Claim(
            "pooled_inverse",
            "Tables 2–4, 7",
            inverse + ", over every representation",
            r,
            inverse_groups((2, 3, 4, 7)),
            correlation,
            paper_inverse((2, 3, 4, 7)),
            min_groups=4,
            group_number="{:.2f}",
            kind="correlation",
        )
    )
    claims.append(
        Claim(
            "table3_nfft1024",
            "Table 3",
            "on ESC-10, n_fft = 1024 gives the most accurate STFT",
            "accuracy of 1024 minus the closest other n_fft (points)",
            lambda d: row_groups(
                d,
                d.victim_runs("stft")[d.victim_runs("stft")["dataset"] == "esc10"],
                "n_fft",
                "accuracy",
                "1024",
            ),
            lead("1024"),
            paper_row(3, "1024", "esc10"),
        )
    )
    claims.append(
        Claim(
            "table4_dwt",
            "Table 4",
            "the wavelet scalogram (DWT) is more accurate than MFCC and STFT",
            "DWT accuracy minus the closer of MFCC and STFT, per dataset both have (points)",
            accuracy_groups(("wavelet", "stft", "mfcc")),
            lead("DWT"),
            lambda t: paper_lead(t, {"DWT": 4, "STFT": 3, "MFCC": 2}, "DWT"),
        )
    )
    claims.append(
        Claim(
            "stft_over_mfcc",
            "Tables 2, 3",
            "STFT is more accurate than MFCC",
            "STFT accuracy minus MFCC accuracy, per dataset both have (points)",
            accuracy_groups(("stft", "mfcc")),
            lead("STFT"),
            lambda t: paper_lead(t, {"STFT": 3, "MFCC": 2}, "STFT"),
        )
    )
    claims.append(
        Claim(
            "table5_cmor",
            "Table 5",
            "the complex Morlet is the most accurate mother wavelet",
            "complex Morlet accuracy minus the closest other family (points)",
            lambda d: row_groups(
                d, d.victim_runs("wavelet", family=None), "wavelet_family", "accuracy", "cmor"
            ),
            lead("cmor"),
            paper_row(5, "cmor"),
        )
    )
    claims.append(
        Claim(
            "cw_costliest",
            "Tables 2–4, 7",
            "Carlini–Wagner is the costliest attack (gradient computations)",
            "CW's cost to a 0.9 fooling rate over the closest other attack's (+ %)",
            attack_groups,
            lead("cw", relative=True),
            paper_attack_cost,
            unit="costs (gradients per sample to a 0.9 fooling rate)",
            number="{:+.0f} %",
            group_number="{:.0f}",
            cells="dataset and setting",
        )
    )
    claims.append(
        Claim(
            "table6_accuracy",
            "Table 6",
            "ResNet-18 is more accurate than the other six models",
            "ResNet-18 accuracy minus the closest other model (points)",
            model_groups("accuracy"),
            lead("ResNet-18"),
            paper_table6("accuracy_diff"),
            cells="dataset and setting",
        )
    )
    claims.append(
        Claim(
            "table6_costliest",
            "Table 6",
            "ResNet-18 is the costliest model to attack (gradient computations)",
            "ResNet-18's cost to a 0.9 fooling rate over the closest other model's (+ %)",
            model_groups("cost"),
            lead("ResNet-18", relative=True),
            paper_table6("grads_ratio"),
            unit="costs (gradients per sample to a 0.9 fooling rate, per attack)",
            number="{:+.0f} %",
            group_number="{:.0f}",
            cells="dataset, setting and attack",
        )
    )
    claims.append(
        Claim(
            "table8_hsv_accuracy",
            "Table 8, §5.5",
            "uniform HSV rendering lowers accuracy against the standard colour maps",
            "standard minus HSV accuracy (points)",
            hsv_groups("accuracy"),
            difference("standard", "HSV"),
            paper_hsv("accuracy"),
            kind="difference",
            cells="dataset and setting (but the colour map)",
        )
    )
    claims.append(
        Claim(
            "hsv_auc",
            "§5.5",
            "uniform HSV rendering lowers the fooling rate (AUC)",
            "standard minus HSV mean AUC",
            hsv_groups("auc"),
            difference("standard", "HSV"),
            paper_hsv("auc"),
            unit="attacked samples",
            number="{:+.3f}",
            group_number="{:.3f}",
            kind="difference",
            cells="dataset and setting (but the colour map)",
        )
    )
    claims.append(
        Claim(
            "table9_mfcc",
            "Table 9",
            "adversarial examples transfer least on MFCC",
            "closest other representation's mean ratio minus MFCC's",
            transfer_groups,
            trail("MFCC"),
            paper_mfcc,
            unit="examples",
            number="{:+.3f}",
            group_number="{:.3f}",
        )
    )
    claims.append(
        Claim(
            "raw_audio_drop",
            "§5.6",
            "attacks on end-to-end 1D ConvNets cut their accuracy by at least 30 % on average",
            "relative accuracy drop (fooling rate at the largest budget)",
            waveform_groups,
            at_least("1D"),
            None,
            "stated in §5.6 (no table)",
            unit="attacked samples",
            threshold=0.30,
            min_groups=1,
            number="{:.2f}",
            group_number="{:.2f}",
            kind="level",
        )
    )
    claims.append(
        Claim(
            "raw_audio_restore",
            "§5.6",
            "multiplying a 1D adversarial waveform by a small random "
            "scalar restores its correct label",
            "restored share",
            lambda d: Selection(
                {},
                "the store holds no per-sample restoration results "
                "(notebook 06 writes them to its summary.json)",
            ),
            at_least("1D"),
            None,
            "stated in §5.6 (no table)",
            min_groups=1,
            kind="level",
        )
    )
    return {c.key: c for c in claims}


#: Every claim, by key, in the paper's order.
CLAIMS: dict[str, Claim] = _claims()
