"""The studio's middleware, and Django's as one synchronous chain under ASGI (``studio.tuning``)."""

import pytest
from django.test import AsyncClient

from studio import tuning

pytestmark = pytest.mark.django_db(transaction=True)


async def _page_trips(async_client, user, thread_trips) -> int:
    """How many times one page crosses into a thread, and that the chain still did its work."""
    await async_client.aforce_login(user)
    thread_trips.clear()
    response = await async_client.get("/")
    assert response.status_code == 200
    # What the chain does, it does either way: CSP with a nonce, frame options, private pages.
    assert "nonce-" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "private, no-store"
    return len(thread_trips)


async def test_a_page_crosses_into_a_thread_once_for_the_whole_chain(
    async_client, user, thread_trips, settings
):
    tuned = await _page_trips(async_client, user, thread_trips)
    settings.MIDDLEWARE = tuning.untuned_middleware(settings.MIDDLEWARE)
    untuned = await _page_trips(AsyncClient(), user, thread_trips)  # loads the new chain

    # Tuned: security and static files stay async, every other hook runs in one synchronous
    # chain (11 trips for the page in all, the test client's five process_view hooks apart:
    # studio.asgi runs them in one, tests/studio/test_tuning.py); Django's own classes cross
    # once per hook (25).
    assert tuned <= 11
    assert untuned >= tuned + 10


@pytest.mark.django_db
def test_signed_in_pages_are_private_and_not_stored(client, user, workspace):
    """Finding 13: a shared cache or the browser's disk must not keep a signed-in page."""
    client.force_login(user)
    for url in ("/", f"/w/{workspace.pk}/", f"/w/{workspace.pk}/members/"):
        assert client.get(url)["Cache-Control"] == "private, no-store", url


@pytest.mark.django_db
def test_public_pages_static_files_and_own_headers_are_left_alone(client, user):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from studio.middleware import PrivatePagesMiddleware

    assert not client.get("/healthz").has_header("Cache-Control")  # anonymous: public
    client.force_login(user)
    static = client.get("/static/js/studio.js")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")
    # A response with its own (an SSE stream's "no-cache") keeps it.
    request = RequestFactory().get("/")
    request.user = user
    stream = HttpResponse()
    stream["Cache-Control"] = "no-cache"
    response = PrivatePagesMiddleware(lambda r: stream)(request)
    assert response["Cache-Control"] == "no-cache"
