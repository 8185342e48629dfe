"""Deterministic assignment: stable per user, and close to the weights over 10,000 users."""

from collections import Counter
from dataclasses import dataclass

import pytest

from prompts.experiments.assignment import assign, bucket, subject_for


@dataclass(frozen=True)
class Arm:
    name: str
    weight: int


ARMS = [Arm("A", 1), Arm("B", 1)]


def test_the_same_user_always_gets_the_same_variant():
    first = [assign(7, f"user:{n}", ARMS).name for n in range(1000)]
    again = [assign(7, f"user:{n}", ARMS).name for n in range(1000)]
    assert first == again
    # A known value: the hash is SHA-256, stable across processes and Python versions.
    assert (
        bucket(7, "user:1")
        == int.from_bytes(__import__("hashlib").sha256(b"7:user:1").digest()[:8], "big") / 2**64
    )


def test_another_experiment_reshuffles_users():
    a = [assign(1, f"user:{n}", ARMS).name for n in range(1000)]
    b = [assign(2, f"user:{n}", ARMS).name for n in range(1000)]
    agreement = sum(x == y for x, y in zip(a, b, strict=True)) / 1000
    assert 0.4 < agreement < 0.6  # independent, not the same split


@pytest.mark.parametrize("weights", [(1, 1), (3, 1), (1, 2, 7), (50, 30, 20)])
def test_the_split_over_10000_users_is_close_to_the_weights(weights):
    arms = [Arm(chr(65 + i), w) for i, w in enumerate(weights)]
    counts = Counter(assign(42, f"user:{n}", arms).name for n in range(10_000))
    total = sum(weights)
    for arm in arms:
        expected = arm.weight / total
        # 4 standard errors of a proportion over 10,000 draws (at most 0.02).
        tolerance = 4 * (expected * (1 - expected) / 10_000) ** 0.5
        assert abs(counts[arm.name] / 10_000 - expected) < tolerance


def test_a_zero_weight_variant_is_never_assigned():
    arms = [Arm("A", 0), Arm("B", 1)]
    assert {assign(3, f"ip:10.0.0.{n}", arms).name for n in range(500)} == {"B"}
    with pytest.raises(ValueError):
        assign(3, "user:1", [Arm("A", 0)])


def test_subjects_are_users_when_logged_in_else_ips(user):
    from django.contrib.auth.models import AnonymousUser

    assert subject_for(user, "1.2.3.4") == f"user:{user.pk}"
    assert subject_for(AnonymousUser(), "1.2.3.4") == "ip:1.2.3.4"
