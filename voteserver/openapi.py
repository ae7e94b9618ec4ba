"""The OpenAPI document of the vote server's contract, served at ``/api/openapi.json``.

Written by hand next to the routes it describes; a schemathesis test fuzzes the running
server against it, and a test checks every route is documented.
"""

from __future__ import annotations

from typing import Any

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
SECURED = [{"presenter": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad request",
        401: "Presenter token missing or wrong",
        404: "Not found",
        409: "Conflict",
        503: "Redis unavailable",
    }
    return {str(code): _json(ERROR, text[code]) for code in codes}


def openapi_document() -> dict[str, Any]:
    """The document; presenter actions carry the bearer security requirement."""
    from cyoa.voteserver.moderation import openapi_paths as moderation_paths

    poll_action = {
        "security": SECURED,
        "parameters": [POLL_PATH, TALK_QUERY],
        "responses": {"200": _json(RESULTS, "The poll after the action"), **_errors(401, 404, 503)},
    }
    return {
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
                    "responses": {"200": {"description": "HTML"}},
                }
            },
            "/api/live": {
                "get": {
                    "summary": "The open poll as this phone sees it",
                    "responses": {
                        "200": {"description": "Live state"},
                        "503": {"description": "Redis down"},
                    },
                }
            },
            "/qr.svg": {
                "get": {
                    "summary": "QR code of the audience URL",
                    "responses": {"200": {"description": "SVG"}},
                }
            },
            "/qr.png": {
                "get": {
                    "summary": "QR code of the audience URL",
                    "responses": {"200": {"description": "PNG"}},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Is Redis answering?",
                    "responses": {
                        "200": {"description": "Healthy"},
                        "503": {"description": "Redis down"},
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
                        "303": {"description": "Back to the audience page"},
                        "200": {"description": "Counted (JSON clients)"},
                        "400": {"description": "Refused"},
                        "403": {
                            "description": "Missing cookie or CSRF token; or refused by the "
                            "voters-per-address cap or a block"
                        },
                        "404": {"description": "Unknown poll"},
                        "409": {"description": "Poll not open"},
                        "429": {"description": "Too many votes"},
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
                    "responses": {"200": {"description": "Talks"}, **_errors(401, 503)},
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
                    "responses": {"200": {"description": "Export"}, **_errors(401, 404, 503)},
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
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI"}},
                }
            },
        },
    }
