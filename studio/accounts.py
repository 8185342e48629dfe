"""Password logins, throttled per account as well as per address.

The page limits (studio.guardrails.page_rate_limits) count an anonymous POST per client
address; someone with many addresses can still guess one account's password. So every password
check also counts against the username tried, in the shared cache: after LOGIN_FAILURE_LIMIT
failures within LOGIN_FAILURE_WINDOW seconds (counted from the first), that username's
password logins are refused, the right password too, until the window ends. The count is by
name, existing account or not, and the message is the same, so the lock tells nothing about
who has an account. It lives in the authentication backend, so the admin's login is throttled
as well.

"Forgot password?" (Django's reset views) is throttled the same way per email address
(``ResetForm``), besides the per-address page limit, and reads the same whether or not an
account has the address.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from studio import cache_pool, degraded
from studio.tuning import Prepared
from studio.workspaces.access import user_with_membership


def _key(username: str) -> str:
    """The counter's cache key: any text, any length, in a fixed-size key."""
    name = unicodedata.normalize("NFKC", username).casefold()
    return "login-failures:" + hashlib.sha256(name.encode()).hexdigest()


def _reserve(username: str) -> bool:
    """Count one attempt (atomically, so a parallel burst cannot slip past); False when over.

    An attempt counts before its password is checked and is given back if it succeeds: of any
    number of simultaneous tries, at most LOGIN_FAILURE_LIMIT reach the password check.
    """
    count = degraded.run(
        lambda cache: _count(cache, _key(username), settings.LOGIN_FAILURE_WINDOW), what="login"
    )
    return count <= settings.LOGIN_FAILURE_LIMIT


def _count(cache, key: str, window: int) -> int:
    """Raise the counter ``key`` by one (a new one lasts ``window`` seconds); its value."""
    return cache_pool.count(cache, key, timeout=window)  # the window starts with the first


def _release(username: str) -> None:
    def give_back(cache) -> None:
        with contextlib.suppress(ValueError):  # the window has ended meanwhile: nothing to give
            cache.decr(_key(username))

    degraded.run(give_back, what="login")


def is_locked(username: str) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    return bool(limit) and degraded.run(lambda c: c.get(_key(username), 0), what="login") >= limit


class ThrottledModelBackend(ModelBackend):
    """Django's username and password check, refused for a username with too many failures."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if not settings.LOGIN_FAILURE_LIMIT or username is None or password is None:
            return super().authenticate(request, username, password, **kwargs)
        if not _reserve(username):
            raise PermissionDenied  # no other backend is asked either
        user = super().authenticate(request, username, password, **kwargs)
        if user is not None:
            _release(username)  # a success is no failure (others' counts are untouched)
        return user

    def get_user(self, user_id):
        """Django's, in one query with a workspace membership when a role check on it is
        coming (studio.workspaces.access.user_with_membership); otherwise with SQL compiled
        once (every request reads its user: studio.tuning 7)."""
        user = user_with_membership(user_id, _read_user)
        return user if user is not None and self.user_can_authenticate(user) else None


# The session's user by its id, compiled once: what ModelBackend.get_user reads.
_USER = Prepared(lambda pk: get_user_model()._default_manager.filter(pk=pk))


def _read_user(user_id):
    if type(user_id) is not int:  # a user model keyed otherwise: Django's own read
        return ModelBackend().get_user(user_id)
    try:
        return _USER.get(user_id)
    except get_user_model().DoesNotExist:
        return None


class LoginForm(AuthenticationForm):
    """The login form, which says so when the username is locked (existing or not)."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            username = self.cleaned_data.get("username")
            if username and is_locked(username):
                minutes = max(1, settings.LOGIN_FAILURE_WINDOW // 60)
                raise ValidationError(
                    _(
                        "Too many failed attempts to log in with this username. Wait up to "
                        "%(minutes)s minutes and try again."
                    )
                    % {"minutes": minutes},
                    code="throttled",
                ) from None
            raise


def _reset_key(email: str) -> str:
    name = unicodedata.normalize("NFKC", email).casefold()
    return "password-resets:" + hashlib.sha256(name.encode()).hexdigest()


def reset_allowed(email: str) -> bool:
    """Count one reset request for the address; False once PASSWORD_RESET_LIMIT are used
    within PASSWORD_RESET_WINDOW seconds (0: no limit)."""
    if not settings.PASSWORD_RESET_LIMIT:
        return True
    window = settings.PASSWORD_RESET_WINDOW
    count = degraded.run(lambda cache: _count(cache, _reset_key(email), window), what="login")
    return count <= settings.PASSWORD_RESET_LIMIT


class ResetForm(PasswordResetForm):
    """Django's "forgot password" form, sending at most PASSWORD_RESET_LIMIT emails per
    address in the window. Over it nothing is sent, and the page after it reads the same as
    ever, as it does for an address no account has: it tells nobody who has an account."""

    def get_users(self, email: str):
        if not reset_allowed(email):
            return iter(())
        return super().get_users(email)
