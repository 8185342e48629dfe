"""Django's SQLite backend, its connections kept for the next request (``base``)."""
