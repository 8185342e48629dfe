"""Request size caps: bodies over REQUEST_BODY_MAX_SIZE are refused in ASGI before Django
reads them, and the HTML pages answer an oversized form with a clear 400 page."""

import json

from studio.body_limit import body_limit

MB = 1024 * 1024


def _scope(path="/w/1/templates/import/", headers=()):
    return {"type": "http", "method": "POST", "path": path, "headers": list(headers)}


async def _call(scope, chunks):
    """Run the wrapped app: (what it sent, whether the inner app ran, the chunks not read)."""
    sent, ran, pending = [], [], list(chunks)

    async def app(scope, receive, send):
        ran.append(True)
        message = {"more_body": True}
        while message.get("more_body"):  # as Django's read_body: to the end or a disconnect
            message = await receive()

    async def receive():
        if not pending:
            raise AssertionError("the body was read past the cap")
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    await body_limit(app)(scope, receive, send)
    return sent, bool(ran), pending


async def test_a_declared_50_mb_body_is_refused_before_a_byte_is_read():
    scope = _scope(headers=[(b"content-length", str(50 * MB).encode())])

    sent, ran, _ = await _call(scope, [])  # receive() fails the test if called

    assert not ran
    assert sent[0]["status"] == 413
    assert b"The request is too large (at most 4 MB)." in sent[1]["body"]


async def test_a_chunked_body_is_cut_off_as_it_passes_the_cap():
    chunks = [b"x" * MB] * 5 + [b"never read"]

    sent, _, unread = await _call(_scope(), chunks)

    assert sent[0]["status"] == 413
    assert unread == [b"never read"]


async def test_the_api_gets_its_json_error_envelope_in_the_callers_language():
    headers = [(b"content-length", str(5 * MB).encode()), (b"accept-language", b"zh-hans")]

    sent, _, _ = await _call(_scope("/api/ai/v1/chat/completions", headers), [])

    assert sent[0]["status"] == 413
    error = json.loads(sent[1]["body"])["error"]
    assert error["type"] == "invalid_request_error" and "4 MB" in error["message"]
    assert error["code"] == "request_too_large"  # the same code as the API's own 413
    assert error["message"] != "The request is too large (at most 4 MB)."  # translated


async def test_a_body_under_the_cap_reaches_the_app():
    sent, ran, _ = await _call(_scope(headers=[(b"content-length", b"3")]), [b"abc"])

    assert ran and sent == []


async def test_the_knowledge_pages_take_a_document_of_knowledge_max_bytes(settings):
    """A 10 MB document may be uploaded to a knowledge page; elsewhere 4 MB stays the cap."""
    settings.KNOWLEDGE_BODY_MAX_SIZE = 10 * MB + MB // 2
    six = [(b"content-length", str(6 * MB).encode())]
    sent, ran, _ = await _call(_scope("/w/3/knowledge/new/", six), [b"x" * 6 * MB])
    assert ran and sent == []
    sent, ran, _ = await _call(_scope("/w/3/templates/import/", six), [])
    assert not ran and sent[0]["status"] == 413
    eleven = [(b"content-length", str(11 * MB).encode())]
    sent, ran, _ = await _call(_scope("/w/3/knowledge/7/", eleven), [])
    assert not ran and b"(at most 10 MB)" in sent[1]["body"]
