"""Busy, not broken (studio/busy.py): a request that waited too long for the database is
answered 503 with Retry-After (a toast for htmx, a page, the API's envelope), never a 500.

The database is really full here (tests/busy_database.py); requests go through Django's
ASGI handler, as the server's do. tests/browser/test_busy.py presses Generate in a browser.
"""

from __future__ import annotations

import sqlite3

import pytest
import respx
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.test import AsyncClient, RequestFactory
from django.urls import reverse
from psycopg_pool import PoolTimeout

from drafts import generation as runner
from drafts.models import Generation
from studio import busy
from studio.api.actions import create_api_key
from studio.audit.metrics import REGISTRY
from studio.views import server_error
from tests.busy_database import adatabase_full
from tests.conftest import CHAT_URL, sse_body, sse_response

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}
TOAST = "The studio is too busy to take this request right now. Nothing you typed is lost"
TOAST_ZH = "工作室现在太忙，无法处理这个请求。你输入的内容都还在"


def refusals() -> float:
    return REGISTRY.get_sample_value("studio_database_busy_total") or 0.0


@pytest.fixture
def launched(monkeypatch) -> list[int]:
    started: list[int] = []
    monkeypatch.setattr(runner, "launch", lambda generation: started.append(generation.pk))
    return started


@pytest.fixture
async def signed_in(user) -> AsyncClient:
    # As the server: an uncaught error is answered, not raised into the test.
    client = AsyncClient(raise_request_exception=False)
    await client.aforce_login(user)
    return client


@pytest.mark.parametrize(("language", "toast"), [("en", TOAST), ("zh-hans", TOAST_ZH)])
@respx.mock
async def test_a_generate_that_waited_too_long_is_a_busy_toast_and_saves_nothing(
    signed_in, workspace, product_template, product_inputs, launched, language, toast
):
    url = reverse("drafts:generate", args=[workspace.pk])
    version = await sync_to_async(product_template.current_version)()
    data = {"version": version.pk, **product_inputs}
    headers = {**HTMX, "Accept-Language": language}
    # A Generate's request may leave before its rows are stored (drafts.generate): one whose
    # rows could not be stored gives it up (tests/drafts/test_early_request.py).
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Bright."])))
    before = refusals()

    async with adatabase_full():
        response = await signed_in.post(url, data, headers=headers)

    assert response.status_code == 503
    assert response["Retry-After"] == str(busy.RETRY_AFTER) == "5"
    assert response["Cache-Control"] == "no-store"
    # For #toasts, beside what is on screen: the page and its filled-in form stay as they are.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#toasts", "beforeend")
    body = response.content.decode()
    assert toast in body and 'role="alert"' in body and "<html" not in body
    assert refusals() == before + 1
    assert not await Generation.objects.aexists() and launched == []

    # A moment later the same press goes through.
    again = await signed_in.post(url, data, headers=headers)
    assert again.status_code == 200
    assert launched == [(await Generation.objects.aget()).pk]


@respx.mock
async def test_without_htmx_the_answer_is_a_page_of_its_own(
    signed_in, workspace, product_template, product_inputs, launched
):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Bright."])))
    version = await sync_to_async(product_template.current_version)()
    url = reverse("drafts:generate", args=[workspace.pk])

    async with adatabase_full():
        response = await signed_in.post(url, {"version": version.pk, **product_inputs})

    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "<title>The studio is busy · DeepSeek Studio</title>" in page
    assert "Wait 5 seconds and try again." in page
    assert "HX-Retarget" not in response


@respx.mock
async def test_the_api_answers_busy_in_its_envelope(
    user, workspace, product_template, product_inputs, launched
):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Bright."])))
    raw_key = (await sync_to_async(create_api_key)(user=user, name="CMS"))[1]
    client = AsyncClient(raise_request_exception=False)
    body = {"template": product_template.pk, "inputs": product_inputs, "wait": False}

    async with adatabase_full():
        response = await client.post(
            reverse("api_ai:generate", args=[workspace.pk]),
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw_key}"},
        )

    assert response.status_code == 503 and response["Retry-After"] == "5"
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("service_unavailable", "database_busy")
    assert "too busy" in error["message"]


def _raised(exc: BaseException) -> BaseException:
    """``exc`` as Django raises a driver's error: its own class, the driver's as the cause."""
    try:
        try:
            raise exc
        except Exception as driver:
            raise OperationalError(str(driver)) from driver
    except OperationalError as wrapped:
        return wrapped


def test_what_counts_as_busy():
    assert busy.database_busy(_raised(PoolTimeout("couldn't get a connection after 30.00 sec")))
    assert busy.database_busy(_raised(sqlite3.OperationalError("database is locked")))
    # A database that failed is not busy: still a 500, with its traceback in the log.
    assert not busy.database_busy(_raised(sqlite3.OperationalError("no such table: x")))
    assert not busy.database_busy(OperationalError("connection refused"))
    assert not busy.database_busy(None)


def test_any_other_error_is_the_studios_500_page():
    request = RequestFactory().get("/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(request)

    assert response.status_code == 500 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "Something went wrong" in page and "could not complete this request" in page
