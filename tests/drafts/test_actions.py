"""Version numbering (also under concurrency), edits with optimistic concurrency, restore,
and how a generation's end is kept."""

import threading

import pytest
from django.db import connection, connections

from drafts.actions import (
    VersionConflict,
    add_version,
    finish_generation,
    restore_version,
    save_edit,
    save_partial_texts,
    share_version,
)
from drafts.models import Draft, DraftVersion, Generation
from tests.generating import start_generation

WRITERS = 8


@pytest.fixture
def draft(workspace, user):
    return Draft.objects.create(workspace=workspace, title="Launch post", created_by=user)


def run_at_once(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as error:  # collected and asserted on by the caller
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_get_distinct_consecutive_numbers(draft, user):
    """Runs on PostgreSQL when DATABASE_URL points there (CI), where the row lock matters."""
    results = run_at_once(
        WRITERS,
        lambda i: add_version(
            draft_id=draft.pk, text=f"take {i}", source="edited", author_id=user.pk
        ),
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    numbers = sorted(v.number for v in results)
    assert numbers == list(range(1, WRITERS + 1))  # none duplicated, none lost
    saved = dict(DraftVersion.objects.filter(draft=draft).values_list("number", "text"))
    assert sorted(saved.values()) == sorted(f"take {i}" for i in range(WRITERS))
    assert connection.vendor in {"postgresql", "sqlite"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_from_the_same_base_one_wins_the_others_conflict(draft, user):
    add_version(draft_id=draft.pk, text="v1", source="generated", author_id=user.pk)

    results = run_at_once(
        WRITERS,
        lambda i: save_edit(draft_id=draft.pk, text=f"edit {i}", base_number=1, author_id=user.pk),
    )

    saved = [r for r in results if isinstance(r, DraftVersion)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert len(saved) == 1 and len(conflicts) == WRITERS - 1
    assert saved[0].number == 2
    assert all(c.latest.number == 2 for c in conflicts)  # each is told what won
    assert draft.versions.count() == 2


def test_numbers_start_at_one_and_count_up(draft, user):
    first = add_version(draft_id=draft.pk, text="a", source="generated", author_id=user.pk)
    second = add_version(draft_id=draft.pk, text="b", source="edited", author_id=user.pk)
    assert (first.number, second.number) == (1, 2)


def test_an_edit_on_the_latest_version_is_saved_with_its_base(draft, user):
    add_version(draft_id=draft.pk, text="first", source="generated", author_id=user.pk)

    version = save_edit(draft_id=draft.pk, text="second", base_number=1, author_id=user.pk)

    assert (version.number, version.text, version.source, version.based_on) == (
        2,
        "second",
        "edited",
        1,
    )


def test_an_edit_based_on_an_old_version_is_refused_and_nothing_is_written(draft, user):
    add_version(draft_id=draft.pk, text="first", source="generated", author_id=user.pk)
    add_version(draft_id=draft.pk, text="other tab", source="edited", author_id=user.pk)

    with pytest.raises(VersionConflict) as raised:
        save_edit(draft_id=draft.pk, text="mine", base_number=1, author_id=user.pk)

    assert raised.value.latest.number == 2 and raised.value.latest.text == "other tab"
    assert draft.versions.count() == 2


def test_the_first_edit_of_an_empty_draft_has_base_zero(draft, user):
    version = save_edit(draft_id=draft.pk, text="from scratch", base_number=0, author_id=user.pk)
    assert version.number == 1 and version.based_on is None


def test_saving_the_same_text_again_adds_no_version(draft, user):
    add_version(draft_id=draft.pk, text="same", source="generated", author_id=user.pk)

    version = save_edit(draft_id=draft.pk, text="same", base_number=1, author_id=user.pk)

    assert version.number == 1 and draft.versions.count() == 1


def test_restore_copies_an_old_text_into_a_new_version(draft, user):
    add_version(draft_id=draft.pk, text="original", source="generated", author_id=user.pk)
    add_version(draft_id=draft.pk, text="worse", source="edited", author_id=user.pk)

    restored = restore_version(draft_id=draft.pk, number=1, author_id=user.pk)

    assert (restored.number, restored.text, restored.source, restored.based_on) == (
        3,
        "original",
        "restored",
        1,
    )
    assert draft.versions.get(number=2).text == "worse"  # history is never rewritten


def test_a_revoked_share_link_is_no_longer_active(draft, user):
    version = add_version(draft_id=draft.pk, text="x", source="generated", author_id=user.pk)
    link = share_version(version=version, user=user)
    other = share_version(version=version, user=user)

    link.revoke()

    assert len(link.token) >= 32 and link.token != other.token
    assert list(draft.share_links.active()) == [other]


@pytest.mark.parametrize(
    ("params", "asked", "mode"),
    [
        ({"temperature": 0}, "", "use"),  # deterministic: reuse an identical earlier answer
        ({"temperature": 0}, "bypass", "refresh"),  # ask anew, keep the new answer
        ({"temperature": 0.7}, "", "off"),  # chance decides: never cached...
        ({"temperature": 0.7}, "reuse", "use"),  # ...unless the caller asks for reuse
        ({"temperature": 0.7}, "bypass", "off"),
        ({"temperature": 0, "thinking": True}, "", "off"),  # thinking ignores temperature
        ({"temperature": 0}, "off", "off"),  # a variant or a continuation: never cached
    ],
)
def test_the_cache_mode_follows_temperature_and_what_was_asked(params, asked, mode):
    from drafts.generate import cache_mode

    assert cache_mode(asked, params) == mode


def test_no_cache_ttl_turns_the_cache_off(settings):
    from drafts.generate import cache_mode

    settings.AI_CACHE_TTL = 0
    assert cache_mode("reuse", {"temperature": 0}) == "off"


@pytest.fixture
def generation(workspace, product_template, product_inputs, user) -> Generation:
    version = product_template.current_version()
    return start_generation(workspace=workspace, version=version, inputs=product_inputs, user=user)


def end(generation: Generation, text: str, status: str = "done") -> Generation:
    return finish_generation(
        generation_id=generation.pk, status=status, text=text, reasoning="", fields={}
    )


def test_the_end_of_a_generation_is_kept_as_its_version_in_few_queries(
    generation, django_assert_max_num_queries
):
    """The runner's database thread does this for every generation: read and lock the
    generation with what it was for, save it, then number, insert and touch (a savepoint
    around it all in a test)."""
    with django_assert_max_num_queries(8):
        ended = end(generation, "Warm light for late work.")

    version = DraftVersion.objects.get(generation=generation)
    assert (version.number, version.source, version.text) == (
        1,
        "generated",
        "Warm light for late work.",
    )
    assert ended.status == "done" and ended.draft.workspace_id == generation.draft.workspace_id


def test_the_end_writes_only_what_it_changes(generation, django_assert_max_num_queries):
    """The prompt, its inputs and parameters are not written again: the UPDATE names the
    ending's columns only, and what it does not name stays as the row had it."""
    Generation.objects.filter(pk=generation.pk).update(client_ip="203.0.113.9")  # meanwhile
    with django_assert_max_num_queries(8) as captured:
        finish_generation(
            generation_id=generation.pk,
            status="done",
            text="Warm light.",
            reasoning="Lamps.",
            fields={"finish_reason": "stop", "ttft_ms": 120, "completion_tokens": 3},
        )

    (update,) = [
        q["sql"] for q in captured.captured_queries if 'UPDATE "drafts_generation"' in q["sql"]
    ]
    assert '"messages"' not in update and '"inputs"' not in update and '"params"' not in update
    ended = Generation.objects.get(pk=generation.pk)
    assert (ended.status, ended.text, ended.reasoning, ended.finish_reason) == (
        "done",
        "Warm light.",
        "Lamps.",
        "stop",
    )
    assert (ended.ttft_ms, ended.completion_tokens, ended.client_ip) == (120, 3, "203.0.113.9")
    assert ended.finished is not None and ended.messages == generation.messages


def test_a_generation_that_has_ended_is_left_as_it_is(generation):
    end(generation, "The first ending.")

    again = end(generation, "A second ending, from a restart check.", status="interrupted")

    assert (again.status, again.text) == ("done", "The first ending.")
    assert list(DraftVersion.objects.values_list("text", flat=True)) == ["The first ending."]


def test_an_empty_answer_adds_no_version(generation):
    ended = end(generation, "", status="failed")

    assert ended.status == "failed" and not DraftVersion.objects.exists()


def test_partial_texts_are_saved_in_one_statement_for_running_generations_only(
    workspace, product_template, product_inputs, user, django_assert_num_queries
):
    """The runner's one writer does this at an interval for every generation that changed."""
    version = product_template.current_version()
    queued, running, ended = (
        start_generation(workspace=workspace, version=version, inputs=product_inputs, user=user)
        for _ in range(3)
    )
    Generation.objects.filter(pk=running.pk).update(status=Generation.Status.RUNNING)
    end(ended, "The final text.")

    texts = {
        queued.pk: ("Warm light", ""),
        running.pk: ("Warm light for late work", "Think of lamps."),
        ended.pk: ("Warm", "a late save"),
    }
    with django_assert_num_queries(3) as captured:  # a savepoint in a test, around one UPDATE
        save_partial_texts(texts)

    updates = [q["sql"] for q in captured.captured_queries if "UPDATE" in q["sql"]]
    assert len(updates) == 1 and updates[0].startswith("3 times: UPDATE")  # run once per row
    saved = {g.pk: (g.status, g.text, g.reasoning) for g in Generation.objects.all()}
    assert saved == {
        queued.pk: ("queued", "Warm light", ""),
        running.pk: ("running", "Warm light for late work", "Think of lamps."),
        ended.pk: ("done", "The final text.", ""),  # its final text stays
    }


def test_saving_the_same_partial_texts_again_is_harmless(generation):
    save_partial_texts({generation.pk: ("Warm light", "")})
    save_partial_texts({generation.pk: ("Warm light", "")})
    save_partial_texts({})

    generation.refresh_from_db()
    assert (generation.status, generation.text) == ("queued", "Warm light")
