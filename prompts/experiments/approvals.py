"""Do the variants differ in how often editors approve their drafts? (SciPy.)

The approval (accept) signal per variant is "approved drafts out of drafts". Two variants are
compared with Fisher's exact test on the 2×2 table; three or more with a chi-square test of
independence on the k×2 table, but only when its expected counts allow it (Cochran's rule:
none below 1, at least 80% of them 5 or more); otherwise there is too little data to say.

Every sentence is translated (named placeholders): call ``statement()`` while the reader's
language is active.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .stats import ALPHA, MIN_DECISIVE_VOTES, format_p, percent

# Below this many drafts in all, no approval comparison is reported (as for votes).
MIN_DRAFTS = MIN_DECISIVE_VOTES
FISHER, CHI_SQUARE = "fisher", "chi2"


@dataclass(frozen=True)
class Approvals:
    name: str
    approved: int
    drafts: int

    @property
    def rate(self) -> float:
        return self.approved / self.drafts if self.drafts else 0.0


@dataclass(frozen=True)
class ApprovalTest:
    """The test's outcome: ``method`` and ``p_value`` are None when there is too little data."""

    variants: tuple[Approvals, ...]
    method: str | None
    p_value: float | None

    @property
    def drafts(self) -> int:
        return sum(v.drafts for v in self.variants)

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA

    def statement(self) -> str:
        """The result in plain words, e.g. "B is approved more often than A: 80% of 20
        drafts against 30% of 20, p=0.0036 (Fisher's exact test)."."""
        if self.p_value is None:
            if self.drafts < MIN_DRAFTS or len(self.variants) < 2:
                message = _("Too few drafts yet to compare approvals (%(n)s of %(needed)s needed).")
                return message % {"n": self.drafts, "needed": MIN_DRAFTS}
            return _(
                "Too few drafts per variant yet to compare approvals: every variant needs more "
                "drafts (%(n)s so far)."
            ) % {"n": self.drafts}
        ranked = sorted(self.variants, key=lambda v: v.rate, reverse=True)
        leader, trailer = ranked[0], ranked[-1]
        values = {
            "leader": leader.name,
            "trailer": trailer.name,
            "share": percent(leader.rate),
            "n": leader.drafts,
            "trailer_share": percent(trailer.rate),
            "trailer_n": trailer.drafts,
            "p": format_p(self.p_value),
            "test": _("Fisher's exact test") if self.method == FISHER else _("chi-square test"),
        }
        if not self.significant:
            return (
                ngettext(
                    "No clear difference in approvals yet: %(leader)s has %(share)s of "
                    "%(n)s draft approved, p=%(p)s, %(test)s (a difference this size could be "
                    "chance).",
                    "No clear difference in approvals yet: %(leader)s has %(share)s of "
                    "%(n)s drafts approved, p=%(p)s, %(test)s (a difference this size could be "
                    "chance).",
                    leader.drafts,
                )
                % values
            )
        return (
            ngettext(
                "%(leader)s is approved more often than %(trailer)s: %(share)s of %(n)s draft "
                "against %(trailer_share)s of %(trailer_n)s, p=%(p)s, %(test)s.",
                "%(leader)s is approved more often than %(trailer)s: %(share)s of %(n)s drafts "
                "against %(trailer_share)s of %(trailer_n)s, p=%(p)s, %(test)s.",
                leader.drafts,
            )
            % values
        )


def _expected_counts_allow(expected) -> bool:
    """Cochran's rule for the chi-square approximation."""
    cells = [float(e) for e in expected.flat]
    return min(cells) >= 1 and sum(e >= 5 for e in cells) >= 0.8 * len(cells)


def approval_test(variants: list[Approvals]) -> ApprovalTest:
    """Fisher's exact test for two variants, chi-square for three or more (see the module)."""
    compared = tuple(v for v in variants if v.drafts)
    total = sum(v.drafts for v in compared)
    if len(compared) < 2 or len(compared) != len(variants) or total < MIN_DRAFTS:
        return ApprovalTest(tuple(variants), None, None)
    table = [[v.approved, v.drafts - v.approved] for v in compared]
    approved = sum(row[0] for row in table)
    if approved in (0, total):
        # All approved or none: no difference to find (and no chi-square to compute).
        return ApprovalTest(compared, FISHER if len(compared) == 2 else CHI_SQUARE, 1.0)
    # Imported when needed: SciPy is ~2 s of CPU for every process that loads the URLconf.
    from scipy.stats import chi2_contingency, fisher_exact

    if len(compared) == 2:
        return ApprovalTest(compared, FISHER, float(fisher_exact(table).pvalue))
    result = chi2_contingency(table)
    if not _expected_counts_allow(result.expected_freq):
        return ApprovalTest(compared, None, None)
    return ApprovalTest(compared, CHI_SQUARE, float(result.pvalue))
