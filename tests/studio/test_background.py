"""Background tasks: a context of their own and a database thread of their own, whose
connection heals after the database dropped it (``healing``)."""

import asyncio
import threading

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.contrib.auth import get_user_model
from django.db import Error, IntegrityError

from studio import background
from studio.observability import request_id_var
from tests.database_blips import drop_background_connection, drop_this_threads_connection


def _thread_name() -> str:
    return threading.current_thread().name


async def test_background_work_runs_on_its_own_thread_even_while_asgirefs_is_held():
    """The test client (and anything outside a request) runs sync code on asgiref's single
    thread; a request waiting there for a runner must not stop the runner's database calls."""
    held = threading.Event()
    busy = asyncio.wrap_future(SyncToAsync.single_thread_executor.submit(held.wait, 10))
    try:
        async with asyncio.timeout(5):
            name = await background.start(sync_to_async(_thread_name)())
    finally:
        held.set()
        await busy

    assert name.startswith("background-db")


async def test_background_work_keeps_the_request_id_and_nothing_else():
    token = request_id_var.set("abc123")
    try:
        seen = await background.start(_request_id())
        bare = await background.start(_request_id(), keep_request_id=False)
    finally:
        request_id_var.reset(token)

    assert (seen, bare) == ("abc123", "")


async def _request_id() -> str:
    return request_id_var.get()


def _on_database_thread(unit, *args):
    return background.DATABASE_THREAD.submit(unit, *args).result(timeout=30)


def _users() -> int:
    return get_user_model().objects.count()


@pytest.mark.django_db(transaction=True)
def test_a_unit_whose_connection_was_dropped_runs_again_on_a_new_one(user, caplog):
    _on_database_thread(_users)  # the thread's connection is open, then dropped while idle
    drop_background_connection()
    tries = []

    def unit() -> int:
        tries.append(1)
        return _users()

    assert _on_database_thread(background.healing(unit)) == 1
    assert len(tries) == 2
    assert "The database connection was lost; unit runs again" in caplog.text
    assert _on_database_thread(_users) == 1  # and the thread keeps the new connection


@pytest.mark.django_db(transaction=True)
def test_the_second_try_may_be_a_unit_of_its_own(user):
    drop_background_connection()
    tries = []

    def first() -> int:
        tries.append("first")
        return _users()

    def again() -> int:
        tries.append("again")
        return _users()

    assert _on_database_thread(background.healing(first, again=again)) == 1
    assert tries == ["first", "again"]


@pytest.mark.django_db(transaction=True)
def test_an_error_on_a_live_connection_is_not_run_again(user, caplog):
    """A constraint, a lock timeout: the unit's own error, raised as it is, the connection kept."""
    tries = []

    def duplicate() -> None:
        tries.append(1)
        get_user_model().objects.create(username=user.username)

    with pytest.raises(IntegrityError):
        _on_database_thread(background.healing(duplicate))
    assert len(tries) == 1
    assert "runs again" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_again_on_the_second_try_is_raised(caplog):
    tries = []

    def unlucky() -> int:
        tries.append(1)
        drop_this_threads_connection()
        return _users()

    with pytest.raises(Error):
        _on_database_thread(background.healing(unlucky))
    assert len(tries) == 2
    assert _on_database_thread(background.healing(_users)) == 0  # the next unit heals


@pytest.mark.django_db(transaction=True)
async def test_aheal_runs_the_unit_on_the_database_thread_of_background_work():
    name = await background.start(background.aheal(_thread_name)())

    assert name.startswith("background-db")
