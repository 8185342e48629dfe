"""The studio's middleware, and Django's as one synchronous chain under ASGI (``studio.tuning``)."""

import threading

import pytest
from asgiref.sync import async_to_sync
from django.http import Http404, HttpResponse
from django.test import AsyncClient, RequestFactory
from django.views.decorators.http import require_GET

from studio import tuning
from studio.middleware import FirstReadMiddleware

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
    # chain (12 trips for the page in all, the test client's six process_view hooks apart:
    # studio.asgi runs them in one, tests/studio/test_tuning.py); Django's own classes cross
    # once per hook (26).
    assert tuned <= 12
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


# --- FirstRead: an async view's first read in the view hooks' trip ---------------------------


def _reader(reads: list):
    from studio.middleware import FirstRead

    def read(request, pk: int) -> str:
        reads.append((pk, threading.current_thread()))
        if pk == 404:
            raise Http404("No such thing.")
        return f"thing {pk}"

    reader = FirstRead(read)

    @reader.first
    async def view(request, pk: int) -> HttpResponse:
        return HttpResponse(await reader(request, pk=pk))

    return reader, require_GET(view)  # marked innermost, found on the outermost


def _through_the_hook(view, request, kwargs: dict) -> HttpResponse:
    """The hook (on this thread, as Django's view hooks run it) and then the view."""
    assert (
        FirstReadMiddleware(lambda r: HttpResponse()).process_view(request, view, (), kwargs)
        is None
    )
    return async_to_sync(view)(request, **kwargs)


def test_the_view_gets_what_the_hook_read_without_a_trip_of_its_own(thread_trips):
    reads: list = []
    _, view = _reader(reads)

    response = _through_the_hook(view, RequestFactory().get("/x/"), {"pk": 7})

    assert response.content == b"thing 7"
    assert reads == [(7, threading.current_thread())]  # once, in the hook
    assert thread_trips == []


def test_what_the_read_raised_the_view_raises(thread_trips):
    reads: list = []
    _, view = _reader(reads)

    with pytest.raises(Http404, match="No such thing"):
        _through_the_hook(view, RequestFactory().get("/x/"), {"pk": 404})
    assert len(reads) == 1 and thread_trips == []


def test_without_the_hook_or_for_other_keywords_the_view_reads_in_a_trip(thread_trips):
    reads: list = []
    reader, view = _reader(reads)

    assert async_to_sync(view)(RequestFactory().get("/x/"), pk=7).content == b"thing 7"
    assert len(reads) == 1 and len(thread_trips) == 1  # no hook ran: a trip of its own

    request = RequestFactory().get("/x/")
    reader.run_now(request, {"pk": 8})  # read for other keywords than the view asks for
    thread_trips.clear()
    assert async_to_sync(view)(request, pk=7).content == b"thing 7"
    assert [pk for pk, _ in reads] == [7, 8, 7] and len(thread_trips) == 1


def test_a_request_refused_by_an_earlier_hook_reads_nothing(client, user, monkeypatch):
    """Login required answers in an earlier hook: an anonymous watcher is not even looked up."""
    from drafts.views import generations

    reads: list = []
    monkeypatch.setattr(generations._watched, "read", lambda *a, **kw: reads.append(kw))

    assert client.get("/generations/1/events/").status_code == 302
    assert reads == []
