"""gunicorn settings file (`--config python:app.gunicorn_hooks`): the server hooks Hearth needs."""

from app.serving import gunicorn_on_starting as on_starting  # noqa: F401 - read by gunicorn
