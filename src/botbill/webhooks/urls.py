"""Where deliveries may go (API.md "Webhooks"): pure rules over a URL and over the
addresses its host resolved to.

Outside production an endpoint may be ``http://localhost`` or ``http://127.0.0.1`` (a
receiver on the developer's machine); in production only ``https://`` to a public
address, so that a workspace admin cannot make botbill post to the platform's own
network. The address rule runs at every attempt, on what DNS answers then.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


def url_refusal(url: str, *, production: bool) -> str | None:
    """Why ``url`` may not be an endpoint, or ``None`` when it may."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https"):
        return _scheme_refusal(production)
    host = (parts.hostname or "").lower()
    if not host:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    local = host in LOCAL_HOSTS
    if parts.scheme == "http" and local and not production:
        return None
    if parts.scheme != "https":
        return _scheme_refusal(production)
    if production and (local or _literal_refusal(host) is not None):
        return "must not point to a loopback, private or link-local address"
    return None


def _scheme_refusal(production: bool) -> str:
    if production:
        return "must start with https://"
    return "must start with https:// (or http://localhost, http://127.0.0.1)"


def address_refusal(addresses: Sequence[str], *, production: bool) -> str | None:
    """Why a delivery may not go to a host that resolved to ``addresses``, or ``None``.
    In production every address must be public: one private answer among public ones
    could be the one the connection uses."""
    if not addresses:
        return "the host does not resolve"
    if not production:
        return None
    for text in addresses:
        address = _parsed(text)
        if address is None:
            return f"{text!r} is not an IP address"
        refusal = _public_refusal(address)
        if refusal is not None:
            return refusal
    return None


def _parsed(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address written alone or in URL brackets, its IPv6 zone dropped."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _literal_refusal(host: str) -> str | None:
    """Why an IP literal is not a public address; ``None`` for a public address or a
    name (names are checked once resolved)."""
    address = _parsed(host)
    return None if address is None else _public_refusal(address)


def _public_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global and not address.is_multicast:
        return None
    return f"{address} is not a public address"
