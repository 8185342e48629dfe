"""Experiment views: experiments (the A/B pages), batches and generate (the workspace's Generate,
which assigns a running experiment's variant; routed as drafts:generate)."""
