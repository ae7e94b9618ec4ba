"""The Twilio SMS webhook: placeholder until the SMS blueprint lands."""

from __future__ import annotations

from flask import Blueprint, Response
from twilio.twiml.messaging_response import MessagingResponse

bp = Blueprint("sms", __name__)


def twiml(message: str | None) -> Response:
    """A TwiML reply; ``None`` sends no SMS back."""
    reply = MessagingResponse()
    if message:
        reply.message(message)
    return Response(str(reply), mimetype="application/xml")
