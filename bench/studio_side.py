"""The Django side of the benchmark, run as ``python -m bench.studio_side PLAN.json`` with the
bench's environment (its own database): the bench template, users and workspaces, and the
exact chat messages the studio will send for each stream's form input.

Users, workspaces and the template are made with the studio's own actions (what the UI does);
the messages come from the same form and template code ``generate`` runs, so the direct and
LiteLLM runs send the upstream byte-for-byte the same requests as the studio.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

TEMPLATE_SLUG = "bench-stream"


def template_data(tokens: int) -> dict[str, object]:
    # The [[sim:tokens=N]] directive makes the offline simulator answer exactly N tokens.
    return {
        "slug": TEMPLATE_SLUG,
        "name": "Benchmark stream",
        "purpose": "copy",
        "description": "Used by bench/ only: a fixed-length answer from the simulator.",
        "system_prompt": "You are a concise technical writer.",
        "user_prompt": f"Write a short note about {{{{ topic }}}}. [[sim:tokens={tokens}]]",
        "variables": [{"name": "topic", "label": "Topic", "type": "text", "max_length": 200}],
        "temperature": 1.0,
    }


def topic(i: int) -> str:
    return f"streaming benchmark number {i}"


def main(argv: list[str]) -> None:
    request = json.loads(Path(argv[0]).read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from prompts.actions import import_template
    from prompts.forms import TemplateForm
    from studio.workspaces.actions import create_workspace

    template, _, _ = import_template(data=template_data(request["tokens"]))
    version = template.current_version()
    users = []
    User = get_user_model()
    for n in range(request["users"]):
        username = f"bench-{n}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, password=request["password"])
            create_workspace(name=f"Bench {n}", owner=user)
        else:  # a reused database (BENCH_DATABASE_URL): this run's password
            user.set_password(request["password"])
            user.save(update_fields=["password"])
        workspace = user.memberships.order_by("pk").first().workspace
        users.append({"username": username, "workspace_id": workspace.pk})
    streams = []
    for i in range(request["streams"]):
        form = TemplateForm(version, {"topic": topic(i)})
        if not form.is_valid():
            sys.exit(f"bench template form rejected its input: {form.errors.as_text()}")
        streams.append({"topic": topic(i), "messages": version.build_messages(form.cleaned_data)})
    plan = {
        "version_id": version.pk,
        "params": version.generation_params(),
        "users": users,
        "streams": streams,
    }
    Path(argv[1]).write_text(json.dumps(plan))


if __name__ == "__main__":
    main(sys.argv[1:])
