"""Where a vote comes from: a short keyed digest of the client's address, never the address.

The voters-per-address cap, the rate limit per address and the presenter's list of sources
all count by this id. Two choices live here:

- IPv6 counts by its /64: one subscriber (a home, a phone on mobile data) gets a whole /64
  and may pick any address in it, so a full address would let a script rotate freely.
- The machine's own loopback address (127.0.0.1, ::1) is not capped. A prankster cannot
  come from it; what does is the presenter's own tools (``cyoa rehearse``), and a tunnel
  (ngrok, cloudflared) or a reverse proxy on the same machine that is not declared with
  ``CYOA_TRUST_PROXY``: there every phone arrives as 127.0.0.1, and a cap would refuse the
  room after a handful of votes. The presenter's report flags such a source instead. Other
  127.x addresses only appear when a client binds one on purpose (the tests and
  ``bench/stuffing.py`` do, to play distinct phones), so they are capped like any address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from cyoa.voteserver.voters import address_key

SMS = "sms"  # every signed text: Twilio posts from a few addresses, so they are not capped
LOCAL_ADDRESSES = ("127.0.0.1", "::1")
SOURCE_ID = re.compile(r"^(sms|[A-Za-z0-9]{12})$")


@dataclass(frozen=True)
class Source:
    """A vote's source: its id (a digest, or ``sms``) and whether the cap applies to it."""

    id: str
    capped: bool


def network_of(address: str) -> str:
    """The address the cap counts: IPv4 as is, IPv6 by its /64, anything else verbatim."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if ip.is_loopback:
            return str(ip)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def source_of(secret: str, address: str) -> Source:
    """The source of a web vote from the client address ``address``."""
    network = network_of(address)
    return Source(address_key(secret, network), capped=network not in LOCAL_ADDRESSES)


def local_ids(secret: str) -> frozenset[str]:
    """The ids of this machine's own loopback addresses (uncapped, flagged in reports)."""
    return frozenset(address_key(secret, a) for a in LOCAL_ADDRESSES)
