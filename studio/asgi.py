"""ASGI entry point (uvicorn): Django plus the lifespan events Django itself ignores."""

import os

from django.core.asgi import get_asgi_application

from studio.body_limit import body_limit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

# Bodies over REQUEST_BODY_MAX_SIZE are refused before Django spools them.
django_application = body_limit(get_asgi_application())


async def application(scope, receive, send) -> None:
    """Django for HTTP; on lifespan startup, sweep for generations no process runs
    (``drafts.sweeper``); on shutdown, settle running generations and close clients."""
    if scope["type"] != "lifespan":
        await django_application(scope, receive, send)
        return
    # Late on purpose: the app modules load once get_asgi_application() has set Django up.
    from drafts import sweeper
    from drafts.generation import shutdown
    from studio.ai import close_client
    from studio.audit.metrics import process_exiting

    sweeping = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            sweeping = sweeper.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if sweeping is not None:
                sweeping.cancel()
            await shutdown()  # running generations end as "interrupted", their text kept
            await close_client()
            process_exiting()  # several workers: this one's open streams stop counting
            await send({"type": "lifespan.shutdown.complete"})
            return
