"""Which address of this laptop the room's phones can reach, and which they cannot.

The audience URL goes into the QR code, so a wrong guess silently loses the whole room: the
default route may run through a VPN or a phone's USB tethering, the laptop may have no
network at all (loopback), or only a self-assigned link-local address (no DHCP). ``cyoa
present`` lists every address with what is wrong with it, and picks the best LAN one.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

# Interface name prefixes, lower case. A VPN's address is not on the venue's Wi-Fi; a
# virtual bridge (containers, VMs) is not on any network a phone joins; USB tethering
# reaches only the one phone the laptop is tethered to.
VPN_INTERFACES = (
    "tun", "tap", "wg", "utun", "ppp", "tailscale", "zt", "nordlynx", "ipsec", "gpd",
    "proton", "mullvad", "cscotun", "vpn",
)  # fmt: skip
VIRTUAL_INTERFACES = (
    "docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "cni", "flannel",
    "podman", "vnic",
)  # fmt: skip
TETHER_INTERFACES = ("usb", "rndis", "bnep")
CGNAT = ipaddress.ip_network("100.64.0.0/10")  # Tailscale and carrier NAT: not a venue LAN

WHY = {
    "loopback": "loopback: only this laptop can open it",
    "link-local": "link-local (no DHCP answer): phones cannot reach it",
    "vpn": "a VPN: phones on the venue's Wi-Fi cannot reach it",
    "virtual": "a virtual bridge (containers or VMs): not a network phones join",
    "tethering": "USB or Bluetooth tethering: only the tethered phone can reach it",
}


@dataclass(frozen=True)
class Address:
    """One IPv4 address of this machine, and what kind of network it is on."""

    ip: str
    interface: str
    kind: str  # lan, loopback, link-local, vpn, virtual or tethering

    @property
    def usable(self) -> bool:
        return self.kind == "lan"

    @property
    def why(self) -> str:
        return WHY.get(self.kind, "")

    def url(self, port: int) -> str:
        return f"http://{self.ip}:{port}/"


def classify(ip: str, interface: str) -> str:
    """The kind of network ``ip`` on ``interface`` is (see :data:`WHY`)."""
    address = ipaddress.ip_address(ip)
    name = interface.lower()
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if name.startswith(VPN_INTERFACES) or address in CGNAT:
        return "vpn"
    if name.startswith(VIRTUAL_INTERFACES):
        return "virtual"
    if name.startswith(TETHER_INTERFACES):
        return "tethering"
    return "lan"


def machine_addresses() -> list[Address]:
    """Every IPv4 address of every interface that is up (psutil reads them portably)."""
    import psutil

    stats = psutil.net_if_stats()
    found = []
    for interface, entries in psutil.net_if_addrs().items():
        if interface in stats and not stats[interface].isup:
            continue
        for entry in entries:
            if entry.family == socket.AF_INET:
                found.append(Address(entry.address, interface, classify(entry.address, interface)))
    return found


def default_route_ip() -> str:
    """The address the default route leaves from (no packet is sent); "" when none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return ""


def choose(addresses: list[Address], route_ip: str = "") -> Address | None:
    """The address for the QR code: the default route's when it is a LAN, else the first
    LAN address, else None (nothing a phone can reach)."""
    usable = [a for a in addresses if a.usable]
    for address in usable:
        if address.ip == route_ip:
            return address
    return usable[0] if usable else None


def audience_report(
    port: int, public_url: str = "", addresses: list[Address] | None = None, route_ip: str = ""
) -> tuple[str, list[str]]:
    """The audience URL, and the lines that tell the presenter about every other address."""
    addresses = machine_addresses() if addresses is None else addresses
    route_ip = route_ip or default_route_ip()
    chosen = choose(addresses, route_ip)
    lines = []
    if public_url:
        url = public_url
    elif chosen is not None:
        url = chosen.url(port)
    else:
        url = f"http://127.0.0.1:{port}/"
        lines.append(
            "WARNING: no network address phones can reach: only this laptop can vote. Join "
            "the venue's Wi-Fi (or your own hotspot) and restart, or give --public-url."
        )
    route = next((a for a in addresses if a.ip == route_ip), None)
    if not public_url and route is not None and not route.usable and chosen is not None:
        lines.append(
            f"note: the default route goes through {route.interface} ({route.why}); "
            f"the audience URL uses {chosen.interface} instead."
        )
    for address in addresses:
        if address == chosen and not public_url:
            continue
        if address.kind == "loopback":
            continue  # always there; said above when it is all there is
        what = "also reachable" if address.usable else address.why
        lines.append(f"  other address: {address.url(port)} ({address.interface}: {what})")
    return url, lines
