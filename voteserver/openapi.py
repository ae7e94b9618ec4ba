"""The OpenAPI document of the vote server's contract, served at ``/api/openapi.json``.

Written by hand next to the routes it describes; a schemathesis test fuzzes the running
server against it, and a test checks every route is documented.
"""

from __future__ import annotations

from typing import Any

ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
OPTION_IN = {
    "type": "object",
    "required": ["key", "label"],
    "properties": {
        "key": ID,
        "label": {"type": "string", "maxLength": 200},
        "words": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    },
}
POLL_IN = {
    "type": "object",
    "required": ["question", "options"],
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 300},
        "options": {"type": "array", "items": OPTION_IN, "minItems": 2, "maxItems": 9},
        "hide_results": {"type": "boolean"},
        "scene": {"type": "string", "maxLength": 64},
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
        "audience": {"type": "integer"},
    },
}
STATE_IN = {
    "type": "object",
    "required": ["scene"],
    "properties": {
        "scene": {"type": "string", "maxLength": 200},
        "path": {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
        "story": {"type": "string"},
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
                        "403": {"description": "Missing cookie or CSRF token"},
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
                        "403": {"description": "Bad Twilio signature"},
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
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"talk": ID, "story": {"type": "string"}},
                                }
                            }
                        },
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
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI"}},
                }
            },
        },
    }
