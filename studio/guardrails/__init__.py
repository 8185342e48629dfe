"""Guardrails every path to the model goes through: prompt checks (``prompt_checks``, with the
form field ``prompt_fields``), page and API rate limits (``rate_limits``, the pages' middleware
in ``page_rate_limits``), daily token budgets (``budgets``) and the response cache
(``response_cache``). A foundation package: it imports no feature app (drafts, prompts,
studio.api, studio.assistant).
"""
