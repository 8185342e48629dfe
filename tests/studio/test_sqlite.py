"""On SQLite a connection outlives its request's thread (studio/sqlite): the next request
takes it as it is, instead of opening one and reading the schema again."""

import threading

import pytest
from django.db import connections

from studio.sqlite import base
from tests.studio.test_settings import manage


@pytest.fixture
def wrapper(tmp_path, django_db_blocker):
    """Wrappers of a database file of the test's own, as Django's per-thread ones are."""
    settings_dict = {**connections.settings["default"], "NAME": str(tmp_path / "pool.sqlite3")}
    settings_dict["OPTIONS"] = {}
    with django_db_blocker.unblock():
        yield lambda: base.DatabaseWrapper(settings_dict, "pool")
    base.close_idle()


def in_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join(timeout=10)
    return result[0]


def test_a_connection_closed_at_rest_serves_the_next_thread(wrapper):
    first = wrapper()
    first.ensure_connection()
    raw = first.connection
    first.close()

    def next_request():
        second = wrapper()
        second.ensure_connection()
        reused = second.connection
        second.close()
        return reused

    assert in_thread(next_request) is raw
    assert first.connection is None  # the closing wrapper holds it no more


def test_a_connection_is_handed_on_as_it_is_its_prepared_statements_kept(wrapper):
    """Taking one runs nothing on it: setting a flag pragma (even to the value it has) would
    expire every statement it prepared, and each query would be compiled again."""
    first = wrapper()
    first.ensure_connection()
    ran = []
    first.connection.set_trace_callback(ran.append)
    first.close()

    second = wrapper()
    second.ensure_connection()

    assert ran == ["PRAGMA foreign_keys"]  # read as it was put back; nothing on taking it
    with second.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone() == (1,)  # as a new connection has it


def test_a_connection_with_its_foreign_key_checks_off_is_not_handed_on(wrapper):
    first = wrapper()
    first.ensure_connection()
    unchecked = first.connection
    assert first.disable_constraint_checking()  # e.g. loaddata, interrupted before enabling
    first.close()

    second = wrapper()
    with second.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone() == (1,)
    assert second.connection is not unchecked


def test_a_transaction_left_open_is_rolled_back_before_the_next_request(wrapper):
    first = wrapper()
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE note (text TEXT)")
    first.connection.execute("BEGIN")
    first.connection.execute("INSERT INTO note VALUES ('half done')")
    first.close()

    second = wrapper()
    with second.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM note")
        assert cursor.fetchone() == (0,)
    assert not second.connection.in_transaction


def test_a_connection_closed_under_it_is_not_handed_on(wrapper):
    first = wrapper()
    first.ensure_connection()
    broken = first.connection
    broken.close()  # the database dropped it
    first.close()

    second = wrapper()
    second.ensure_connection()

    assert second.connection is not broken
    with second.cursor() as cursor:
        cursor.execute("SELECT 1")


@pytest.mark.parametrize(
    ("tuning", "engine"), [("true", "studio.sqlite"), ("false", "django.db.backends.sqlite3")]
)
def test_the_kept_connections_are_part_of_the_framework_tuning(tuning, engine):
    show = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = manage("shell", "--no-imports", "-c", show, DEBUG="1", STUDIO_FRAMEWORK_TUNING=tuning)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == engine
