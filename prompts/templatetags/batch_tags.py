"""``{% judge_summary experiment %}``: the LLM judge's scores per variant, for pages that
show human votes (the experiment's results page) without mixing the two."""

from __future__ import annotations

from typing import Any

from django import template

from prompts.experiments.batch_results import has_judge_scores, variant_summary

register = template.Library()


@register.inclusion_tag("prompts/batch_judge_summary.html")
def judge_summary(experiment) -> dict[str, Any]:
    rows = variant_summary(experiment) if has_judge_scores(experiment) else []
    return {"rows": rows, "experiment": experiment}
