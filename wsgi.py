"""The WSGI entry point: python -m app.web_server (wsgi:app), flask --app wsgi …"""

from app import create_app

app = create_app()
