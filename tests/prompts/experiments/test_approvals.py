"""Do variants differ in approvals? Fisher's exact test for two, chi-square for three or more
(when its expected counts allow), checked against values computed by hand."""

import math

import pytest
from django.utils import translation

from prompts.experiments.approvals import CHI_SQUARE, FISHER, MIN_DRAFTS, Approvals, approval_test


def test_fisher_for_two_variants_matches_the_hypergeometric_sum():
    """8 of 10 approved against 2 of 10: with both margins 10 of 20, P(X=k) is
    C(10,k)·C(10,10−k)/C(20,10), and the two-sided p sums the tables as unlikely as this one
    (k = 0, 1, 2, 8, 9, 10): 2·(45² + 10² + 1)/184756."""
    result = approval_test([Approvals("A", 2, 10), Approvals("B", 8, 10)])
    assert result.method == FISHER
    assert result.p_value == pytest.approx(2 * (45**2 + 10**2 + 1) / math.comb(20, 10))
    assert result.p_value == pytest.approx(0.0230141, abs=1e-6)
    assert result.significant
    assert result.statement() == (
        "B is approved more often than A: 80% of 10 drafts against 20% of 10, p=0.023, "
        "Fisher's exact test."
    )


def test_chi_square_for_three_variants_matches_the_hand_computed_statistic():
    """15/20, 10/20 and 4/20 approved: every expected count is 29/3 or 31/3; the statistic is
    Σ(O−E)²/E = 12.1468 and, with 2 degrees of freedom, p = exp(−χ²/2)."""
    variants = [Approvals("A", 15, 20), Approvals("B", 10, 20), Approvals("C", 4, 20)]
    expected = [29 / 3, 31 / 3]
    observed = [[15, 5], [10, 10], [4, 16]]
    statistic = sum(
        (o - e) ** 2 / e for row in observed for o, e in zip(row, expected, strict=True)
    )
    assert statistic == pytest.approx(12.1468, abs=1e-4)
    result = approval_test(variants)
    assert result.method == CHI_SQUARE
    assert result.p_value == pytest.approx(math.exp(-statistic / 2))
    assert result.statement() == (
        "A is approved more often than C: 75% of 20 drafts against 20% of 20, p=0.0023, "
        "chi-square test."
    )


def test_a_small_difference_is_not_called_a_winner():
    result = approval_test([Approvals("A", 5, 10), Approvals("B", 6, 10)])
    assert result.method == FISHER and result.p_value == pytest.approx(1.0)
    assert not result.significant
    assert result.statement().startswith("No clear difference in approvals yet: B has 60% of 10")


def test_too_few_drafts_say_so_instead_of_a_p_value():
    result = approval_test([Approvals("A", 3, 4), Approvals("B", 0, 4)])
    assert result.p_value is None and result.method is None
    assert result.statement() == (
        f"Too few drafts yet to compare approvals (8 of {MIN_DRAFTS} needed)."
    )


def test_a_variant_without_drafts_cannot_be_compared():
    result = approval_test([Approvals("A", 9, 20), Approvals("B", 0, 0)])
    assert result.p_value is None


def test_chi_square_is_refused_when_expected_counts_are_too_small():
    """3/4, 2/4, 1/4: every expected count is 2, below Cochran's 5 for most cells."""
    result = approval_test([Approvals("A", 3, 4), Approvals("B", 2, 4), Approvals("C", 1, 4)])
    assert result.p_value is None
    assert result.statement().startswith("Too few drafts per variant yet to compare approvals")


def test_all_approved_is_no_difference():
    result = approval_test([Approvals(n, 10, 10) for n in "ABC"])
    assert result.p_value == 1.0 and not result.significant


def test_the_statement_is_translated():
    result = approval_test([Approvals("A", 2, 10), Approvals("B", 8, 10)])
    with translation.override("zh-hans"):
        text = result.statement()
    # Until the lead merges the catalogue the English text is the fallback; either way the
    # named placeholders are filled in.
    assert "B" in text and "80%" in text and "0.023" in text
