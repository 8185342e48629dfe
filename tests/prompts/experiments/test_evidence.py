"""A declared winner's evidence: recorded from the results page's verdict, read back whole."""

import json
from types import SimpleNamespace

import pytest

from prompts.experiments.evidence import Evidence, record
from prompts.experiments.ranking import rank
from prompts.experiments.results import Verdict, VoteRow, comparison
from prompts.experiments.stats import Interval, variant_results


def _verdict(names: dict[int, str], votes: list[VoteRow]) -> Verdict:
    variants = [SimpleNamespace(pk=pk, name=name) for pk, name in names.items()]
    results = variant_results(names, [(v.shown, v.winner) for v in votes])
    ranking = rank(names, [(v.shown, v.winner, v.choice) for v in votes])
    return Verdict(variants, votes, results, comparison(variants, votes), ranking, False)


def _vote(shown, winner=None, choice="variant") -> VoteRow:
    return VoteRow(shown, winner, choice if winner else "tie", voter=1, run=None)


EXPERIMENT = SimpleNamespace(pk=7, name="Questions sell?")


def test_two_variants_record_wins_among_appearances_the_interval_and_p():
    votes = [_vote([1, 2], 2)] * 11 + [_vote([2, 1], 1), _vote([1, 2])]
    verdict = _verdict({1: "Plain", 2: "Question"}, votes)

    data = json.loads(
        json.dumps(record(verdict, experiment=EXPERIMENT, variant=verdict.variants[1]))
    )
    proof = Evidence.load(data)

    assert (data["wins"], data["appearances"], data["decisive_votes"]) == (11, 13, 12)
    assert (proof.wins, proof.total) == (11, 13)
    assert proof.interval == pytest.approx(verdict.results[1].interval)
    assert proof.p_value == pytest.approx(2 * 13 / 4096) and proof.ranking is None
    assert (
        proof.statement
        == verdict.statement()
        == ("Question beats Plain, 92% of 12 votes, p=0.0063.")
    )
    assert not proof.too_early and proof.experiment == 7


def test_three_variants_record_the_ranking_and_the_winners_place_in_it():
    votes = [_vote([1, 2, 3], 2)] * 8 + [_vote([3, 1, 2], 1)] * 2 + [_vote([1, 2, 3])]
    verdict = _verdict({1: "A", 2: "B", 3: "C"}, votes)

    proof = Evidence.load(
        json.loads(json.dumps(record(verdict, experiment=EXPERIMENT, variant=verdict.variants[1])))
    )

    best = verdict.ranking.rows[0]
    assert best.name == "B" and proof.rank == 1 and proof.ranked == best
    assert proof.ranking == verdict.ranking and proof.statement == verdict.ranking.statement()
    assert proof.p_value is None and proof.comparison is None


def test_older_records_read_back_with_what_they_have():
    """Before the results page's definition was shared: wins over decisive votes, a summary."""
    proof = Evidence.load(
        {
            "experiment": 3,
            "variant": "B",
            "votes": 9,
            "wins": 5,
            "decisive_votes": 8,
            "interval": [0.3, 0.86],
            "p_value": None,
            "summary": "B declared winner.",
        }
    )

    assert (proof.wins, proof.total, proof.interval) == (5, 8, Interval(0.3, 0.86))
    assert proof.statement == "B declared winner." and proof.rank is None


def test_a_label_move_without_an_experiment_has_no_evidence():
    assert Evidence.load({}) is None and Evidence.load({"note": "x"}) is None
