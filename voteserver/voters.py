"""Who a voter is, without storing who they are.

Web voters get a random id in a signed cookie; SMS voters are a keyed HMAC of their phone
number (a plain hash of a phone number is brute-forceable). CSRF tokens are derived from the
voter id, so a form posted from another site cannot vote.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

COOKIE_NAME = "cyoa_voter"
COOKIE_MAX_AGE = 7 * 24 * 3600


def _mac(secret: str, purpose: str, value: str, length: int = 16) -> str:
    # surrogatepass: any str has a MAC, even one with a lone surrogate from a raw header
    message = f"{purpose}:{value}".encode("utf-8", "surrogatepass")
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:length]).decode().rstrip("=")


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that refuses, never raises: ``hmac.compare_digest`` raises
    TypeError on a non-ASCII str, and a phone or a forger may send anything. Our MACs are
    ASCII, so a non-ASCII value is simply wrong (saying so leaks nothing secret)."""
    return given.isascii() and hmac.compare_digest(given, expected)


def new_voter_id() -> str:
    return "w" + secrets.token_hex(12)


def sign_voter(secret: str, voter: str) -> str:
    """The cookie value: the voter id and a MAC over it."""
    return f"{voter}.{_mac(secret, 'voter', voter)}"


def read_voter(secret: str, cookie: str | None) -> str | None:
    """The voter id from a cookie, or None if it is missing or forged."""
    if not cookie or "." not in cookie or len(cookie) > 100:
        return None
    voter, _, mac = cookie.partition(".")
    if not voter.startswith("w") or not voter.isascii() or not voter[1:].isalnum():
        return None
    return voter if same(mac, _mac(secret, "voter", voter)) else None


def csrf_token(secret: str, voter: str) -> str:
    return _mac(secret, "csrf", voter)


def check_csrf(secret: str, voter: str, token: str | None) -> bool:
    if not token:
        return False
    return same(token, csrf_token(secret, voter))


def phone_voter(secret: str, phone: str) -> str:
    """A stable voter id for a phone number; the number itself is never stored."""
    return "s" + _mac(secret, "phone", phone.strip(), 12).replace("-", "0").replace("_", "1")


def address_key(secret: str, address: str) -> str:
    """A short keyed digest of a client address, safe to put in a Redis key name."""
    return _mac(secret, "addr", address or "-", 9).replace("-", "0").replace("_", "1")
