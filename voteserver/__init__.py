"""The vote server: the audience's page, the SMS webhook and the presenter's API on Redis.

The package imports nothing itself, so a leaf module (``keys``, ``sms_parse``) loads alone;
the app is built by ``cyoa.voteserver.app.create_app`` (docs/architecture.md).
"""
