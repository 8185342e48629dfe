"""Per-user API keys: shown once, stored as a SHA-256 hash, found by a short public prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# "dss_" + 8-character lookup prefix + "_" + 40 characters of secret.
KEY_SCHEME = "dss"
PREFIX_LENGTH = 8


def hash_key(raw: str) -> str:
    """SHA-256 is right for keys of 240 random bits: no dictionary to slow down."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_key() -> tuple[str, str]:
    """A fresh key and its lookup prefix."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(30)}", prefix


def split_prefix(raw: str) -> str | None:
    scheme, _, rest = raw.partition("_")
    prefix = rest[:PREFIX_LENGTH]
    if scheme != KEY_SCHEME or len(prefix) != PREFIX_LENGTH or rest[PREFIX_LENGTH:][:1] != "_":
        return None
    return prefix


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def for_user(self, user) -> ApiKeyQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked__isnull=True, user__is_active=True)

    def matching(self, raw: str) -> ApiKey | None:
        """The active key this secret belongs to, compared in constant time."""
        prefix = split_prefix(raw)
        if prefix is None:
            return None
        key = self.active().select_related("user").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.hashed_key, hash_key(raw)):
            return None
        return key


class ApiKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True)
    hashed_key = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        return f"{KEY_SCHEME}_{self.prefix}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked is None

    def revoke(self) -> None:
        if self.revoked is None:
            self.revoked = timezone.now()
            self.save(update_fields=["revoked"])

    def touch(self) -> None:
        """Record use; at most one write a minute per key, not one per request."""
        now = timezone.now()
        if self.last_used is None or (now - self.last_used).total_seconds() >= 60:
            ApiKey.objects.filter(pk=self.pk).update(last_used=now)
            self.last_used = now
