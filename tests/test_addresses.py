"""Which audience URL goes into the QR code, and what the presenter is warned about."""

from __future__ import annotations

import pytest

from cyoa.addresses import Address, audience_report, choose, classify, machine_addresses


@pytest.mark.parametrize(
    ("ip", "interface", "kind"),
    [
        ("192.168.1.23", "wlan0", "lan"),
        ("10.20.0.7", "en0", "lan"),
        ("127.0.0.1", "lo", "loopback"),
        ("169.254.12.3", "wlan0", "link-local"),
        ("10.8.0.2", "tun0", "vpn"),
        ("10.6.0.2", "wg0", "vpn"),
        ("100.101.7.9", "tailscale0", "vpn"),
        ("100.72.1.1", "eth9", "vpn"),  # carrier-grade NAT range: never a venue's LAN
        ("172.17.0.1", "docker0", "virtual"),
        ("192.168.42.129", "usb0", "tethering"),
    ],
)
def test_each_kind_of_address_is_recognised(ip: str, interface: str, kind: str) -> None:
    assert classify(ip, interface) == kind


def test_the_qr_avoids_a_vpn_default_route_and_says_why() -> None:
    addresses = [
        Address("127.0.0.1", "lo", "loopback"),
        Address("10.8.0.2", "tun0", "vpn"),
        Address("192.168.1.23", "wlan0", "lan"),
    ]
    url, lines = audience_report(8000, addresses=addresses, route_ip="10.8.0.2")
    assert url == "http://192.168.1.23:8000/"
    text = "\n".join(lines)
    assert "default route goes through tun0" in text
    assert "http://10.8.0.2:8000/ (tun0: a VPN" in text
    assert "127.0.0.1" not in text  # loopback is not worth a line when a LAN address exists


def test_only_loopback_is_a_loud_warning() -> None:
    url, lines = audience_report(8000, addresses=[Address("127.0.0.1", "lo", "loopback")])
    assert url == "http://127.0.0.1:8000/"
    assert lines[0].startswith("WARNING: no network address phones can reach")


def test_a_public_url_wins_and_every_address_is_still_listed() -> None:
    addresses = [Address("192.168.1.23", "wlan0", "lan"), Address("10.0.0.4", "eth0", "lan")]
    url, lines = audience_report(
        8000, "https://votes.example.org/", addresses=addresses, route_ip="10.0.0.4"
    )
    assert url == "https://votes.example.org/"
    assert any("192.168.1.23:8000" in line and "also reachable" in line for line in lines)
    assert any("10.0.0.4:8000" in line for line in lines)


def test_the_default_route_wins_among_lan_addresses() -> None:
    addresses = [Address("192.168.1.23", "wlan0", "lan"), Address("10.0.0.4", "eth0", "lan")]
    assert choose(addresses, "10.0.0.4").ip == "10.0.0.4"
    assert choose(addresses, "").ip == "192.168.1.23"
    assert choose([Address("127.0.0.1", "lo", "loopback")], "127.0.0.1") is None


def test_this_machines_own_addresses_are_read() -> None:
    found = machine_addresses()
    assert any(a.kind == "loopback" and a.ip.startswith("127.") for a in found)
    url, _lines = audience_report(8123)
    assert url.startswith("http://") and url.endswith(":8123/")
