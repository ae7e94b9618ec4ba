"""The audience's page: placeholder until the audience blueprint lands."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audience", __name__)
