"""The WSGI entry point: ``gunicorn wsgi:app`` (or ``flask --app wsgi run`` in development)."""

from company import create_app

app = create_app()
