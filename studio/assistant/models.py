"""The assistant panel's conversations: one per user and draft, a bounded window kept here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageQuerySet(models.QuerySet["AssistantMessage"]):
    def conversation(self, *, user, draft) -> MessageQuerySet:
        """One user's conversation about one draft, oldest first: nobody else's, ever."""
        return self.filter(user=user, draft=draft).order_by("pk")

    def latest_first(self) -> MessageQuerySet:
        return self.order_by("-pk")


class AssistantMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("You")
        ASSISTANT = "assistant", _("Assistant")

    class Status(models.TextChoices):
        STREAMING = "streaming", _("Writing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    draft = models.ForeignKey("drafts.Draft", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    created = models.DateTimeField(auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["user", "draft"])]
        verbose_name = _("assistant message")
        verbose_name_plural = _("assistant messages")

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    @property
    def is_streaming(self) -> bool:
        return self.status == self.Status.STREAMING

    def as_chat(self) -> dict[str, str]:
        """This message as a chat API message."""
        return {"role": self.role, "content": self.content}
