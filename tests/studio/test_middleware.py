"""Django's middleware runs as one synchronous chain under ASGI (``studio.middleware``)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_page_crosses_into_a_thread_once_for_the_whole_chain(
    async_client, user, thread_trips
):
    await async_client.aforce_login(user)
    thread_trips.clear()

    response = await async_client.get("/")

    assert response.status_code == 200
    # Security and static files stay async (static files must come right after security);
    # every other hook of Django's own runs inside the one synchronous chain.
    hooks = [t for t in thread_trips if t.endswith(("process_request", "process_response"))]
    assert hooks == ["SecurityMiddleware.process_request", "SecurityMiddleware.process_response"]
    assert "convert_exception_to_response.<locals>.inner" in thread_trips  # the chain, once
    assert len(thread_trips) <= 9  # was 22 with each hook in a thread of its own
    # What the chain does, it still does: session and CSRF cookies, CSP with a nonce.
    assert "nonce-" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


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
