"""Deterministic variant assignment: the same experiment and user always get the same variant.

A stable hash (SHA-256, not Python's per-process ``hash``) of the experiment id and a subject
(a user id, or an IP for anonymous API calls) becomes a point in [0, 1); the variants' weights
cut that interval into slices, so the split follows the weights and never reshuffles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol


class Weighted(Protocol):
    weight: int


def bucket(experiment_id: int, subject: str) -> float:
    """A stable point in [0, 1) for this experiment and subject."""
    digest = hashlib.sha256(f"{experiment_id}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign[W: Weighted](experiment_id: int, subject: str, variants: Sequence[W]) -> W:
    """The subject's variant, in proportion to the weights (keep the variants' order fixed)."""
    total = sum(v.weight for v in variants)
    if not variants or total <= 0:
        raise ValueError("An experiment needs at least one variant with a positive weight.")
    point = bucket(experiment_id, subject) * total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]  # floating-point edge: the point landed exactly on the end


def subject_for(user=None, ip: str = "") -> str:
    """Who is being assigned: the user when logged in, else the client's IP."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip}"
