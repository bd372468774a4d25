"""Scanner recall and precision per dislocation kind on seeds of the built-in market (issue 10 item 1).

Seeds 21-25: neither the unit tests (seeds 1 and 3) nor the docs' table
(seeds 11-15) use them. Only the option-vol kind meets the issue's bar
(recall and precision >= 0.8) so far; the others are measured and reported
in docs/scanner-recall.md, not yet asserted.
"""

from __future__ import annotations

import pytest

from spreadlab.signals.scan.recall import TRUTH_KINDS, detection_scores, detection_table

SEEDS = (21, 22, 23, 24, 25)


@pytest.mark.slow
def test_vol_mispricings_are_found_with_recall_and_precision_above_0_8() -> None:
    scores = detection_scores(SEEDS)
    table = detection_table(scores)
    print(table)
    assert scores["seed"].n_unique() == 5 and set(table["kind"]) == set(TRUTH_KINDS)
    iv = table.filter(table["kind"] == "iv_mispricing").row(0, named=True)
    assert iv["tradable"] >= 10
    assert iv["recall"] >= 0.8 and iv["precision"] >= 0.8, iv
