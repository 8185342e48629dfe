"""API key lifecycle."""

from __future__ import annotations

from django.db import transaction

from .models import ApiKey, hash_key, new_raw_key


@transaction.atomic
def create_api_key(*, user, name: str) -> tuple[ApiKey, str]:
    """Create a key for ``user``; returns it with its secret, never stored or shown again."""
    raw, prefix = new_raw_key()
    key = ApiKey.objects.create(user=user, name=name, prefix=prefix, hashed_key=hash_key(raw))
    return key, raw


def revoke_api_key(*, key: ApiKey) -> ApiKey:
    """Revoke a key: every request with it fails from now on. Revoking twice is harmless."""
    key.revoke()
    return key
