"""The isolation sweep's owner and ``world`` (every kind of object with a URL) for the role
matrix, which walks the same URLconf as a reviewer instead of a stranger."""

from tests.test_isolation import user, world  # noqa: F401
