"""Multi-model writes for drafts: each a verb function in one transaction.

Starting a generation is :mod:`drafts.generate`'s alone (``do_generate``)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from studio.tuning import Prepared

from . import errors
from .models import Draft, DraftVersion, Generation, ShareLink, Suggestion, WorkingCopy
from .rewrite_prompts import fill_parts, fit_section
from .sections import plan_move, replace_section


class VersionConflict(Exception):
    """An edit was based on an older version than the draft's latest: refused, not merged."""

    def __init__(self, latest: DraftVersion | None) -> None:
        super().__init__("A newer version of this draft exists.")
        self.latest = latest


def add_version(
    *,
    draft_id: int,
    text: str,
    source: str,
    author_id: int,
    generation: Generation | None = None,
    based_on: int | None = None,
    session_started: datetime | None = None,
) -> DraftVersion:
    """Append the next numbered version to a draft.

    The draft row is locked first, so concurrent saves on PostgreSQL queue up and each gets
    its own number (SQLite serialises writers itself); the unique constraint is the backstop.
    No savepoint of its own: inside a caller's transaction a failure here fails the whole of
    it, which is what every caller wants (two round trips fewer at the end of a generation).
    """
    with transaction.atomic(savepoint=False):
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        last = draft.versions.aggregate(n=Max("number"))["n"] or 0
        version = DraftVersion.objects.create(
            draft=draft,
            number=last + 1,
            text=text,
            source=source,
            author_id=author_id,
            generation=generation,
            based_on=based_on,
            session_started=session_started,
        )
        draft.save(update_fields=["updated"])
    return version


def save_edit(
    *,
    draft_id: int,
    text: str,
    base_number: int,
    author_id: int,
    session_started: datetime | None = None,
) -> DraftVersion:
    """Save an editor's text as a new version, if nobody saved a newer one in the meantime.

    ``base_number`` is the version the editor started from (0 for a draft without versions).
    Under the draft's row lock the latest number is compared with it: if they differ, another
    tab, editor or generation got there first and :class:`VersionConflict` is raised with that
    latest version, so the caller can show both texts; nothing is written. Saving the same
    text as the latest version is a no-op that returns it (autosave fires on every pause).
    """
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        latest = draft.versions.order_by("-number").first()
        if base_number != (latest.number if latest else 0):
            raise VersionConflict(latest)
        if latest is not None and latest.text == text:
            return latest
        return add_version(
            draft_id=draft.pk,
            text=text,
            source=DraftVersion.Source.EDITED,
            author_id=author_id,
            based_on=base_number or None,
            session_started=session_started,
        )


def keep_working_copy(
    *,
    draft_id: int,
    user_id: int,
    text: str,
    base_number: int,
    idle: timedelta,
    now: datetime | None = None,
) -> DraftVersion | None:
    """Autosave: keep the editor's text as the user's working copy of the draft; no version.

    A working copy untouched for longer than ``idle`` was a session that ended without a Save
    (the page's idle timer throttled in a background tab): it becomes its version first, and
    the text typed now starts a new session on top of it; that version is returned. The text
    is always kept, then, as every save is, it is checked against ``base_number``: a newer
    version raises :class:`VersionConflict` (the text stays kept: nothing is lost).
    """
    now = now or timezone.now()
    made = None
    with transaction.atomic():
        copy = _locked_copy(draft_id, user_id)
        if copy is not None and copy.idle_since(now, idle) and copy.text != text:
            try:
                made = save_edit(
                    draft_id=draft_id,
                    text=copy.text,
                    base_number=copy.base,
                    author_id=user_id,
                    session_started=copy.started,
                )
            except VersionConflict:
                made = None  # left to the check below, with the new text kept
            else:
                base_number = made.number if base_number == copy.base else base_number
                copy = None  # a new session
        latest = _keep(draft_id, user_id, text, base_number, now, copy)
    if base_number != (latest.number if latest else 0):
        raise VersionConflict(latest)
    return made


def finish_session(
    *, draft_id: int, user_id: int, text: str, base_number: int, now: datetime | None = None
) -> DraftVersion:
    """Save, leaving the editor, or a long idle: the session becomes one version.

    The version is made as :func:`save_edit` makes every edit (the same conflict check), with
    the session's span from the working copy, which is then gone. On a conflict the text is
    kept as the working copy instead, so a closed tab after the conflict still loses nothing.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            copy = _locked_copy(draft_id, user_id)
            version = save_edit(
                draft_id=draft_id,
                text=text,
                base_number=base_number,
                author_id=user_id,
                session_started=copy.started if copy else None,
            )
            WorkingCopy.objects.filter(draft_id=draft_id, user_id=user_id).delete()
    except VersionConflict:
        with transaction.atomic():
            _keep(draft_id, user_id, text, base_number, now, _locked_copy(draft_id, user_id))
        raise
    return version


def resume_working_copy(*, draft_id: int, user_id: int, now: datetime | None = None) -> bool:
    """Take up a kept session again: it counts as touched now, so the next autosave continues
    it instead of closing it for its idle time. False when there is none."""
    copies = WorkingCopy.objects.filter(draft_id=draft_id, user_id=user_id)
    return bool(copies.update(updated=now or timezone.now()))


def _locked_copy(draft_id: int, user_id: int) -> WorkingCopy | None:
    # The draft row first, as every version write locks it: a session's autosave and its
    # version never interleave with another save.
    Draft.objects.select_for_update().filter(pk=draft_id).first()
    return WorkingCopy.objects.filter(draft_id=draft_id, user_id=user_id).first()


def _keep(
    draft_id: int,
    user_id: int,
    text: str,
    base_number: int,
    now: datetime,
    copy: WorkingCopy | None,
) -> DraftVersion | None:
    """Write the working copy (a new session when ``copy`` is None); the latest version."""
    WorkingCopy.objects.update_or_create(
        draft_id=draft_id,
        user_id=user_id,
        defaults={
            "text": text,
            "base": base_number,
            "updated": now,
            "started": copy.started if copy else now,
        },
    )
    return DraftVersion.objects.filter(draft_id=draft_id).order_by("-number").first()


def save_section(
    *,
    draft_id: int,
    index: int,
    text: str,
    base_number: int,
    author_id: int,
    source: str = DraftVersion.Source.EDITED,
    generation: Generation | None = None,
) -> DraftVersion:
    """A new version in which only section ``index`` (see ``drafts.sections``) is replaced.

    For an edited, regenerated or expanded section: every other byte of the text is copied
    from version ``base_number``, which must still be the latest (else :class:`VersionConflict`).
    """
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        latest = draft.versions.order_by("-number").first()
        if latest is None or latest.number != base_number:
            raise VersionConflict(latest)
        return add_version(
            draft_id=draft.pk,
            text=replace_section(latest.text, index, text),
            source=source,
            author_id=author_id,
            generation=generation,
            based_on=base_number,
        )


def reorder_section(
    *, draft_id: int, index: int, to: int, base_number: int, author_id: int
) -> tuple[DraftVersion, int]:
    """A new version with section ``index`` moved one step towards ``to`` (one up or down),
    with its subsections (``sections.plan_move``), nothing else; and the index at which the
    section landed.

    Like an edit, it must be based on the newest version (else :class:`VersionConflict`);
    IndexError if there is no such move in that version's outline.
    """
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        latest = draft.versions.order_by("-number").first()
        if latest is None or latest.number != base_number:
            raise VersionConflict(latest)
        text, landed = plan_move(latest.text, index, to)
        version = add_version(
            draft_id=draft.pk,
            text=text,
            source=DraftVersion.Source.EDITED,
            author_id=author_id,
            based_on=base_number,
        )
        return version, landed


def restore_version(*, draft_id: int, number: int, author_id: int) -> DraftVersion:
    """Bring back an old version's text as a new version: history only ever grows."""
    with transaction.atomic():
        old = DraftVersion.objects.get(draft_id=draft_id, number=number)
        return add_version(
            draft_id=draft_id,
            text=old.text,
            source=DraftVersion.Source.RESTORED,
            author_id=author_id,
            based_on=number,
        )


def share_version(*, version: DraftVersion, user) -> ShareLink:
    """A new read-only link to one version, for reviewers without a login."""
    return ShareLink.objects.create(draft_id=version.draft_id, version=version, created_by=user)


# One query tells what a generation was for (a suggestion, an experiment column) and whether
# its text is already kept, instead of three; the draft comes along for the audit row. Only
# the generation's own row is locked. Compiled once (studio.tuning 7; decision 42).
_ENDING = Prepared(
    lambda pk: (
        Generation.objects.select_for_update(of=("self",))
        .select_related("draft", "suggestion", "variant_run")
        .annotate(kept=Exists(DraftVersion.objects.filter(generation=OuterRef("pk"))))
        .filter(pk=pk)
    )
)


def finish_generation(
    *, generation_id: int, status: str, text: str, reasoning: str, fields: dict[str, object]
) -> Generation:
    """Record how a generation ended and keep its text as a new draft version.

    Whatever was written is kept, also when the generation was stopped, failed or cut off:
    the version links to the generation, whose status says the text is partial. A generation
    that has already ended is left as it is (the runner and a restart check may both try), so
    a second call (``background.healing`` after a lost connection) changes nothing and saves
    no second version.
    """
    with transaction.atomic():
        generation = _ENDING.get(generation_id)
        if not generation.is_active:
            return generation
        generation.status = status
        generation.text = text
        generation.reasoning = reasoning
        generation.finished = timezone.now()
        for name, value in fields.items():
            setattr(generation, name, value)
        # Only what the end changes: the prompt, its inputs and parameters (JSON, often
        # the larger part of the row) are neither serialized nor written again.
        generation.save(update_fields=["status", "text", "reasoning", "finished", *fields])
        if hasattr(generation, "suggestion"):
            # A rewrite of part of the draft: its text is a suggestion, not a new version.
            settle_suggestion(generation)
        elif text and not generation.kept:
            # An experiment variant's output and a continuation say so in the draft's history.
            source = DraftVersion.Source.GENERATED
            if hasattr(generation, "variant_run"):
                source = DraftVersion.Source.VARIANT
            elif generation.continues_id is not None:
                source = DraftVersion.Source.CONTINUED
            add_version(
                draft_id=generation.draft_id,
                text=text,
                source=source,
                author_id=generation.created_by_id,
                generation=generation,
            )
    return generation


def save_partial_texts(texts: dict[int, tuple[str, str]]) -> None:
    """Persist the text (and reasoning) so far of running generations, all in one transaction.

    One writer per worker calls this at an interval for every generation that changed, so
    the database sees a bounded number of writes however many tokens stream. A generation
    that has ended meanwhile is left alone: its final text is already saved. Writing the
    same texts twice is harmless (retried after a lost connection).
    """
    if not texts:
        return
    active = [status.value for status in Generation.ACTIVE]
    rows = [(text, reasoning, pk, *active) for pk, (text, reasoning) in texts.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_partial_texts_sql(connection.vendor), rows)


@functools.cache
def _partial_texts_sql(vendor: str) -> str:
    """``save_partial_texts``'s UPDATE, one statement run once per row (``executemany``).

    The same as ``Generation.objects.filter(pk=…, status__in=ACTIVE).update(text=…,
    reasoning=…)``, which built and compiled that statement again for every generation of
    every save: nine tenths of a save's CPU
    (docs/decisions/0030-partial-texts-in-one-statement.md)."""
    name = connection.ops.quote_name
    fields = ("text", "reasoning", "id", "status")
    text, reasoning, pk, status = (name(Generation._meta.get_field(f).column) for f in fields)
    statuses = ", ".join(["%s"] * len(Generation.ACTIVE))
    return (
        f"UPDATE {name(Generation._meta.db_table)} SET {text} = %s, {reasoning} = %s "
        f"WHERE {pk} = %s AND {status} IN ({statuses})"
    )


def mark_running(*, generation_id: int) -> bool:
    """A queued generation's request has gone out; whether it was still queued. Only a
    queued one changes, so a second call, or one after the generation ended, does nothing."""
    queued = Generation.objects.filter(pk=generation_id, status=Generation.Status.QUEUED)
    return bool(queued.update(status=Generation.Status.RUNNING, started=Now()))


def mark_interrupted(
    *, generation: Generation, text: str | None = None, reasoning: str | None = None
) -> Generation:
    """A generation that no process is running any more (crash, restart): keep its text, or
    ``text`` and ``reasoning`` when more of it was recovered (from the Redis relay)."""
    return finish_generation(
        generation_id=generation.pk,
        status=Generation.Status.INTERRUPTED,
        text=generation.text if text is None else text,
        reasoning=generation.reasoning if reasoning is None else reasoning,
        fields={"error_message": errors.RESTARTED},
    )


# --- Archive and trash ---------------------------------------------------------------------


class DraftKept(Exception):
    """A draft that may not be deleted for good (the message says why)."""


def archive_drafts(*, drafts) -> int:
    """Give the (not deleted) drafts the status Archived; how many changed."""
    with transaction.atomic():
        chosen = drafts.alive().exclude(status=Draft.Status.ARCHIVED)
        return chosen.update(status=Draft.Status.ARCHIVED, updated=timezone.now())


def delete_drafts(*, drafts, user) -> int:
    """Move the drafts to their workspace's trash; how many moved.

    Nothing else changes: versions, generations, share links and audit rows are kept, and a
    restored draft is back as it was (its share links work again).
    """
    with transaction.atomic():
        return drafts.alive().update(deleted_at=timezone.now(), deleted_by=user)


def restore_draft(*, draft: Draft) -> Draft:
    """Take a draft out of the trash, back into every list."""
    with transaction.atomic():
        Draft.objects.filter(pk=draft.pk).update(deleted_at=None, deleted_by=None)
        draft.deleted_at = draft.deleted_by = None
        return draft


def purge_draft(*, draft: Draft) -> None:
    """Delete a draft in the trash for good, with its versions, generations and links.

    Audit rows stay (they name the generation by number only). A draft an experiment run
    wrote is part of that experiment's results and stays in the trash.
    """
    with transaction.atomic():
        locked = Draft.objects.select_for_update().in_trash().filter(pk=draft.pk).first()
        if locked is None:
            raise DraftKept(_("Only a draft in the trash can be deleted for good."))
        if locked.generations.filter(variant_run__isnull=False).exists():
            raise DraftKept(
                _("This draft is part of an experiment's results: it stays in the trash.")
            )
        locked.delete()


def settle_suggestion(generation: Generation) -> Suggestion:
    """The suggestion's generation has ended (called inside ``finish_generation``).

    The answer, whole or partial, is kept as the proposal. A section regeneration that ran to
    the end on a draft nobody changed meanwhile is saved straight away as a new version in
    which only that section differs; otherwise the editor decides, nothing is overwritten.
    """
    suggestion = Suggestion.objects.select_for_update().get(generation=generation)
    text = generation.text
    if suggestion.is_section and text:
        text = fit_section(text, suggestion.original)
    elif suggestion.kind == Suggestion.Kind.FIT:
        text = fill_parts(text, suggestion.original, suggestion.parts)
    suggestion.proposed = text
    suggestion.status = Suggestion.Status.PENDING
    if suggestion.is_section and text and generation.status == Generation.Status.DONE:
        try:
            version = save_section(
                draft_id=suggestion.draft_id,
                index=suggestion.section_index,
                text=text,
                base_number=suggestion.base_number,
                author_id=generation.created_by_id,
                source=DraftVersion.Source.SECTION,
                generation=generation,
            )
        except VersionConflict:
            pass  # the draft moved on: this stays a suggestion to accept or reject
        else:
            suggestion.status = Suggestion.Status.ACCEPTED
            suggestion.version = version
            suggestion.original = text
            suggestion.resolved = timezone.now()
    suggestion.save()
    return suggestion
