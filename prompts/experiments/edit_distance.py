"""How much editors rewrote a variant's drafts: a quality signal beside the votes.

For each draft a variant generated, the edit distance (Levenshtein, in characters, from
diff-match-patch) from the generated version to the draft's latest version, and that distance
as a share of the longer text: 0% kept as generated, 100% rewritten entirely. Approved drafts
(status "approved") are the accept signal; with a Wilson interval on the approval rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

from .stats import Interval, wilson

# A long draft is diffed for at most this long (seconds); past it diff-match-patch returns a
# valid but coarser diff, so the page stays fast.
DIFF_TIMEOUT = 0.2


def edit_distance(old: str, new: str) -> int:
    """Characters inserted, deleted or substituted to turn ``old`` into ``new``."""
    if old == new:
        return 0
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    return dmp.diff_levenshtein(dmp.diff_main(old, new, False))


@dataclass(frozen=True)
class Rewrites:
    drafts: int  # drafts with a generated version
    edited: int  # of those, drafts whose latest text differs from the generated one
    approved: int
    rewritten: float | None  # mean share rewritten across the drafts
    distance: float | None  # mean edit distance in characters

    @property
    def approval_interval(self) -> Interval | None:
        return wilson(self.approved, self.drafts)

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.drafts if self.drafts else None


EMPTY = Rewrites(0, 0, 0, None, None)


def summarise(drafts: Iterable[tuple[str, str, bool]]) -> Rewrites:
    """From (generated text, latest text, approved) per draft."""
    shares, distances, edited, approved = [], [], 0, 0
    for generated, latest, is_approved in drafts:
        distance = edit_distance(generated, latest)
        longest = max(len(generated), len(latest))
        distances.append(distance)
        shares.append(distance / longest if longest else 0.0)
        edited += distance > 0
        approved += is_approved
    if not shares:
        return EMPTY
    n = len(shares)
    return Rewrites(n, edited, approved, sum(shares) / n, sum(distances) / n)
