"""The drafts admin: suggestions are listed, filtered and looked at, never added or edited."""

import pytest
from django.contrib.auth import get_user_model

from drafts.actions import add_version
from drafts.models import Draft
from drafts.suggestions import start_suggestion
from studio.audit.origin import Origin


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    return client


def test_suggestions_are_listed_filtered_and_read_only(admin_client, workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Aurora", created_by=user)
    add_version(draft_id=draft.pk, text="# Aurora\n\nA lamp.\n", source="generated",
                author_id=user.pk)  # fmt: skip
    shorter = start_suggestion(origin=Origin(), loop=None, draft=draft, user=user, kind="shorter")
    start_suggestion(origin=Origin(), loop=None, draft=draft, user=user, kind="headlines")

    listing = admin_client.get("/admin/drafts/suggestion/")
    filtered = admin_client.get("/admin/drafts/suggestion/", {"kind__exact": "shorter"})
    change = admin_client.get(f"/admin/drafts/suggestion/{shorter.pk}/change/")

    assert listing.status_code == 200 and listing.content.decode().count("Aurora") >= 2
    assert "By status" in listing.content.decode() and "By kind" in listing.content.decode()
    assert filtered.context["cl"].result_count == 1
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert admin_client.get("/admin/drafts/suggestion/add/").status_code == 403
