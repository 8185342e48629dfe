"""Starting generations in tests, through the one generate action (``drafts.generate``)."""

from __future__ import annotations

from drafts.generate import Ask, Generate, do_generate_one
from drafts.models import Generation
from studio.audit.origin import Origin


def start_generation(
    *, workspace, version, inputs, user, cache: str = "", origin: Origin | None = None
) -> Generation:
    """A queued generation in a new draft, as the workspace's Generate stores it; not
    launched (the test runs or finishes it itself)."""
    request = Generate(
        user=user,
        workspace=workspace,
        origin=origin or Origin(),
        asks=[Ask.from_version(version, inputs)],
        cache=cache,
    )
    return do_generate_one(request)
