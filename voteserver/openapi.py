"""The OpenAPI document of the vote server's contract, served at ``/api/openapi.json``.

Written by hand next to the routes it describes; a schemathesis test fuzzes the running
server against it, and a test checks every route is documented.
"""

from __future__ import annotations

from typing import Any

from cyoa.voteserver.voting import MESSAGES, OUTCOMES

ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
# Request bodies. voteserver/bodies.py validates every presenter body against these same
# schemas. "x-cut-to": longer text (or lists) is cut to that length, not refused: the deck
# sends labels and questions from cyoa.story files, and a long one must not stop a talk.
OPTION_IN = {
    "type": "object",
    "required": ["key", "label"],
    "properties": {
        "key": ID,
        "label": {
            "type": "string",
            "x-cut-to": 200,
            "description": "Cut to 200 characters.",
        },
        "words": {
            "type": "array",
            "items": {"type": "string", "x-cut-to": 40},
            "x-cut-to": 10,
            "description": "Extra words a text message may use for this option; the first "
            "10 are kept, each cut to 40 characters.",
        },
    },
}
POLL_IN = {
    "type": "object",
    "required": ["question", "options"],
    "properties": {
        "question": {
            "type": "string",
            "pattern": "\\S",
            "x-cut-to": 300,
            "description": "Not blank; cut to 300 characters, then stripped.",
        },
        "options": {"type": "array", "items": OPTION_IN, "minItems": 2, "maxItems": 9},
        "hide_results": {
            "type": "boolean",
            "description": "Counts stay hidden from everyone but the presenter until it closes.",
        },
        "scene": {"type": "string", "x-cut-to": 64, "description": "Cut to 64 characters."},
        "time_limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": 86400,
            "nullable": True,
            "description": "Seconds from each open to the close, which the server enforces "
            "itself; null or absent: no limit. A change counts from the next open.",
        },
    },
}
RESULTS = {
    "type": "object",
    "required": ["poll", "question", "status", "options", "total", "winner"],
    "properties": {
        "poll": {"type": "string"},
        "question": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "open", "closed"]},
        "options": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "label", "votes"],
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "votes": {"type": "integer", "nullable": True},
                },
            },
        },
        "total": {"type": "integer", "nullable": True},
        "winner": {"type": "string", "nullable": True},
        "hide_results": {"type": "boolean"},
        "scene": {"type": "string"},
        "time_limit": {"type": "integer", "nullable": True},
        "closes_at": {
            "type": "number",
            "nullable": True,
            "description": "The deadline (unix seconds, the server's clock), set by the open "
            "of a poll with a time limit.",
        },
        "closes_in": {
            "type": "number",
            "nullable": True,
            "description": "Seconds left while a poll with a time limit is open; else null.",
        },
    },
}
STATE = {
    "type": "object",
    "required": ["talk", "scene", "path", "open_poll"],
    "properties": {
        "talk": {"type": "string"},
        "story": {"type": "string"},
        "scene": {"type": "string"},
        "path": {"type": "array", "items": {"type": "string"}},
        "open_poll": {"type": "string"},
        "updated": {"type": "number"},
        "rehearsal": {"type": "boolean"},
        "clock": {"type": "number"},
        "audience": {"type": "integer"},
    },
}
STATE_IN = {
    "type": "object",
    "required": ["scene"],
    "properties": {
        "scene": {"type": "string", "maxLength": 200},
        "path": {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": 1000,
            "nullable": True,
            "description": "The scenes so far; null or absent: unchanged.",
        },
        "story": {"type": "string", "nullable": True, "description": "Null: unchanged."},
    },
}
TALK_IN = {
    "type": "object",
    "properties": {
        "talk": {**ID, "nullable": True, "description": "Resume this talk; null: a new id."},
        "story": {"type": "string", "x-cut-to": 200, "description": "Cut to 200 characters."},
        "rehearsal": {"type": "boolean", "description": "A rehearsal, not the real talk."},
    },
}
TALK_QUERY = {
    "name": "talk",
    "in": "query",
    "required": False,
    "schema": ID,
    "description": "Another talk than the current one.",
}
POLL_PATH = {"name": "poll", "in": "path", "required": True, "schema": ID, "example": "p"}
POLL_QUERY = {
    "name": "poll",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "pattern": "^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$"},
    "description": "The poll the page's script saw open (it draws openings itself, so no "
    "page load sets the cyoa_poll cookie); it wins over the cookie. Given twice: 400.",
}
SECURED = [{"presenter": []}]
# Response bodies: schemathesis checks every answer of the running server against these.
VOTE_OK = {
    "type": "object",
    "required": ["ok", "outcome", "poll", "choice"],
    "properties": {
        "ok": {"type": "boolean", "enum": [True]},
        "outcome": {
            "type": "string",
            "enum": sorted(outcome for outcome, (status, _) in OUTCOMES.items() if status == 200),
        },
        "poll": {"type": "string"},
        "choice": {"type": "string"},
        "previous": {"type": "string", "nullable": True},
    },
}
VOTE_REFUSED = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string", "description": "What the phone shows."},
        "code": {
            "type": "string",
            "enum": sorted(code for code, (kind, _) in MESSAGES.items() if kind == "error"),
        },
    },
}
LIVE = {
    "type": "object",
    "required": ["status", "poll", "results"],
    "properties": {
        "status": {"type": "string", "description": "waiting, open, closed, or end"},
        "poll": {
            "type": "object",
            "nullable": True,
            "required": ["id", "question", "options"],
            "properties": {
                "id": {"type": "string"},
                "question": {"type": "string"},
                "options": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "label"],
                        "properties": {"key": {"type": "string"}, "label": {"type": "string"}},
                    },
                },
                "hide_results": {"type": "boolean"},
                "closes_in": {"type": "number", "nullable": True},
            },
        },
        "results": {
            "type": "object",
            "nullable": True,
            "required": ["votes", "total"],
            "properties": {
                "votes": {"type": "object", "additionalProperties": {"type": "integer"}},
                "total": {"type": "integer"},
                "winner": {"type": "string", "nullable": True},
            },
        },
    },
}
HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "reason": {"type": "string"},
    },
}
TALKS = {
    "type": "object",
    "required": ["current", "talks"],
    "properties": {
        "current": {"type": "string"},
        "talks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["talk", "started"],
                "properties": {"talk": {"type": "string"}, "started": {"type": "number"}},
            },
        },
    },
}
EXPORT = {
    "type": "object",
    "required": ["talk", "story", "path", "scene", "polls"],
    "properties": {
        "talk": {"type": "string"},
        "story": {"type": "string"},
        "path": {"type": "array", "items": {"type": "string"}},
        "scene": {"type": "string"},
        "polls": {"type": "array", "items": RESULTS},
    },
}
HTML = {"text/html": {"schema": {"type": "string"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _content(media_type: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad request",
        401: "Presenter token missing or wrong",
        404: "Not found",
        409: "Conflict",
        503: "Redis unavailable",
    }
    return {str(code): _json(ERROR, text[code]) for code in codes}


def story_paths() -> dict[str, Any]:
    """The end-of-talk pages (``/story/``) and the presenter's comparison (``/results/all``)."""
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    ended = {"200": {"description": "HTML"}, "404": {"description": "The talk has not ended"}}

    def page(summary: str, *parameters: dict) -> dict[str, Any]:
        return {
            "get": {
                "summary": summary,
                "parameters": list(parameters),
                "responses": {**ended, **_errors(503)},
            }
        }

    folder = {**name, "name": "folder"}
    scene = {**name, "name": "scene"}
    return {
        "/story": {
            "get": {
                "summary": "Redirects to /story/",
                "responses": {"308": {"description": "Redirect"}},
            }
        },
        "/story/": page("The whole story with the room's path, once the talk has ended"),
        "/story/{name}": page("A page (index, handout) or file (style, icon) of the story", name),
        "/story/scenes/{scene}.html": page("One scene of the story", scene),
        "/story/media/{name}": page("An image a scene shows", name),
        "/story/media/{folder}/{name}": page("An image a scene shows", folder, name),
        "/results/all": {
            "get": {
                "summary": "Every talk of this story compared: a Sankey and each talk's path",
                "security": [{"presenter": []}, {}],
                "responses": {
                    "200": {"description": "HTML"},
                    "401": {"description": "The sign-in form"},
                    **_errors(503),
                },
            },
            "post": {
                "summary": "Sign in with the presenter token (a cookie for /results)",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"token": {"type": "string"}},
                            }
                        }
                    }
                },
                "responses": {
                    "303": {"description": "To the page, with the cookie"},
                    "401": {"description": "Wrong token: the form again"},
                },
            },
        },
        "/results/plotly.js": {
            "get": {
                "summary": "plotly.js, from the plotly package",
                "responses": {"200": {"description": "JavaScript"}},
            }
        },
        "/results/sankey.js": {
            "get": {
                "summary": "The script that draws the Sankey",
                "responses": {"200": {"description": "JavaScript"}},
            }
        },
    }


def body_limits(paths: dict[str, Any]) -> None:
    """Add the front's refusals to every operation of ``paths`` that takes a body.

    voteserver/front.py answers before any view: 413 for a body over ``CYOA_MAX_BODY`` (on its
    Content-Length, or as it grows) and 408 for one that does not arrive in time; a fuzzer's
    115 KB poll once got a 413 the document did not list.
    """
    refusals = {
        "408": _json(ERROR, "The body did not arrive within CYOA_CLIENT_TIMEOUT"),
        "413": _json(ERROR, "The body is over CYOA_MAX_BODY bytes"),
    }
    for operations in paths.values():
        for operation in operations.values():
            if "requestBody" in operation:
                operation["responses"] = {**operation["responses"], **refusals}


def openapi_document() -> dict[str, Any]:
    """The document; presenter actions carry the bearer security requirement."""
    from cyoa.voteserver.moderation import openapi_paths as moderation_paths

    poll_action = {
        "security": SECURED,
        "parameters": [POLL_PATH, TALK_QUERY],
        "responses": {"200": _json(RESULTS, "The poll after the action"), **_errors(401, 404, 503)},
    }
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "cyoa vote server",
            "version": "1.0.0",
            "description": "Votes for choose-your-own-adventure talks.",
        },
        "components": {"securitySchemes": {"presenter": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/": {
                "get": {
                    "summary": "The audience page (the URL in the QR code)",
                    "responses": {
                        "200": _content("text/html", "The page"),
                        "503": _content("text/html", "Redis down: a page that says so"),
                    },
                }
            },
            "/api/live": {
                "get": {
                    "summary": "The open poll as this phone sees it",
                    "parameters": [POLL_QUERY],
                    "responses": {
                        "200": _json(LIVE, "Live state"),
                        "304": {"description": "Not changed since the phone's ETag"},
                        **_errors(400, 503),
                    },
                }
            },
            "/qr.svg": {
                "get": {
                    "summary": "QR code of the audience URL",
                    "responses": {
                        "200": _content("image/svg+xml", "SVG"),
                        "304": {"description": "Not changed"},
                    },
                }
            },
            "/qr.png": {
                "get": {
                    "summary": "QR code of the audience URL",
                    "responses": {
                        "200": _content("image/png", "PNG"),
                        "304": {"description": "Not changed"},
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Is Redis answering?",
                    "responses": {
                        "200": _json(HEALTH, "Healthy"),
                        "503": _json(HEALTH, "Redis down, and why"),
                    },
                }
            },
            "/vote": {
                "post": {
                    "summary": "Cast or change this phone's vote on the open poll",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["poll", "choice"],
                                    "properties": {
                                        "poll": {"type": "string"},
                                        "choice": {"type": "string"},
                                        "csrf": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "303": {
                            "description": "Back to the audience page, with ?m= saying "
                            "what happened (clients that do not ask for JSON)"
                        },
                        "200": _json(VOTE_OK, "Counted, changed or unchanged (JSON clients)"),
                        "400": _json(VOTE_REFUSED, "Not one of the options"),
                        "403": {
                            "description": "Missing cookie or CSRF token; or refused by the "
                            "voters-per-address cap or a block (plain text for a form from "
                            "another site)",
                            "content": {
                                "application/json": {"schema": VOTE_REFUSED},
                                "text/plain": {"schema": {"type": "string"}},
                            },
                        },
                        "404": _json(VOTE_REFUSED, "Unknown poll"),
                        "409": _json(VOTE_REFUSED, "Poll not open"),
                        "429": _json(VOTE_REFUSED, "Too many votes (Retry-After)"),
                        "503": {
                            "description": "Redis down (Retry-After)",
                            "content": {"application/json": {"schema": ERROR}, **HTML},
                        },
                    },
                }
            },
            "/sms": {
                "post": {
                    "summary": "Twilio's incoming-message webhook (TwiML reply)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "From": {"type": "string"},
                                        "Body": {"type": "string"},
                                        "MessageSid": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "TwiML reply"},
                        "403": {"description": "Unsigned, or a signature no key matches"},
                    },
                }
            },
            "/api/polls/{poll}": {
                "get": {
                    "summary": "A poll's results (public)",
                    "parameters": [POLL_PATH, TALK_QUERY],
                    "responses": {"200": _json(RESULTS, "Results"), **_errors(404, 503)},
                },
                "put": {
                    "summary": "Create or update a poll (idempotent)",
                    "security": SECURED,
                    "parameters": [POLL_PATH, TALK_QUERY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": POLL_IN}},
                    },
                    "responses": {
                        "200": _json(RESULTS, "Updated"),
                        "201": _json(RESULTS, "Created"),
                        **_errors(400, 401, 404, 409, 503),
                    },
                },
            },
            "/api/polls/{poll}/open": {
                "post": {"summary": "Open (closes the open one)", **poll_action}
            },
            "/api/polls/{poll}/close": {"post": {"summary": "Close", **poll_action}},
            "/api/polls/{poll}/reset": {"post": {"summary": "Forget its votes", **poll_action}},
            "/api/state": {
                "get": {
                    "summary": "The deck's position",
                    "security": SECURED,
                    "parameters": [TALK_QUERY],
                    "responses": {"200": _json(STATE, "State"), **_errors(401, 404, 503)},
                },
                "put": {
                    "summary": "Record the deck's position",
                    "security": SECURED,
                    "parameters": [TALK_QUERY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": STATE_IN}},
                    },
                    "responses": {"200": _json(STATE, "State"), **_errors(400, 401, 404, 503)},
                },
            },
            "/api/clock": {
                "post": {
                    "summary": "Restart the talk's clock from now",
                    "security": SECURED,
                    "parameters": [TALK_QUERY],
                    "responses": {"200": _json(STATE, "State"), **_errors(401, 404, 503)},
                },
            },
            "/api/talks": {
                "get": {
                    "summary": "Every talk this server has seen",
                    "security": SECURED,
                    "responses": {"200": _json(TALKS, "Talks"), **_errors(401, 503)},
                },
                "post": {
                    "summary": "Start a talk and make it current",
                    "security": SECURED,
                    "requestBody": {
                        "required": False,
                        "description": "No body: a new talk with a new id.",
                        "content": {"application/json": {"schema": TALK_IN}},
                    },
                    "responses": {"201": _json(STATE, "Started"), **_errors(400, 401, 503)},
                },
            },
            "/api/talks/{talk}/export.json": {
                "get": {
                    "summary": "Every poll's final tally and the path taken",
                    "security": SECURED,
                    "parameters": [{"name": "talk", "in": "path", "required": True, "schema": ID}],
                    "responses": {"200": _json(EXPORT, "Export"), **_errors(401, 404, 503)},
                }
            },
            "/api/talks/{talk}/export.csv": {
                "get": {
                    "summary": "The same as CSV",
                    "security": SECURED,
                    "parameters": [{"name": "talk", "in": "path", "required": True, "schema": ID}],
                    "responses": {
                        "200": {
                            "description": "CSV",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **_errors(401, 404, 503),
                    },
                }
            },
            **moderation_paths(),  # voteserver/moderation.py
            **story_paths(),  # voteserver/story_pages.py, voteserver/results_pages.py
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI")},
                }
            },
        },
    }
    body_limits(document["paths"])
    return document
