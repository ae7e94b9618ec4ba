"""``/healthz``: is Redis answering? Load balancers and ``cyoa present`` ask this."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, jsonify

from cyoa.voteserver.extensions import REDIS_DOWN, get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        get_store().ping()
    except redis.RedisError as error:
        return jsonify(status="unavailable", reason=f"{REDIS_DOWN} ({error})"), 503
    return jsonify(status="ok")
