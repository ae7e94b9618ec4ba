"""The vote server: the audience's page, the SMS webhook and the presenter's API on Redis."""

from cyoa.voteserver.app import create_app

__all__ = ["create_app"]
