"""Where deliveries may go: the URL rule and the resolved-address rule, alone."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.webhooks.urls import address_refusal, url_refusal


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/botbill",
        "https://hooks.example.com:8443/x?y=1",
        "http://localhost:8080/hooks",
        "http://127.0.0.1/hooks",
        "https://127.0.0.1/hooks",
    ],
)
def test_outside_production_https_and_local_http_are_accepted(url: str) -> None:
    assert url_refusal(url, production=False) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "must start with https://"),
        ("http://10.0.0.5/x", "must start with https://"),
        ("ftp://hooks.example.com/x", "must start with https://"),
        ("hooks.example.com/x", "must start with https://"),
        ("https:///path-only", "must name a host"),
        ("https://user:pw@hooks.example.com/x", "must not carry credentials"),
        ("https://hooks.example.com:99999/x", "is not a URL"),
        ("https://example.com/" + "x" * 2000, "at most 2000"),
    ],
)
def test_anything_else_is_refused_with_the_reason(url: str, why: str) -> None:
    refusal = url_refusal(url, production=False)
    assert refusal is not None
    assert why in refusal


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/hooks",
        "http://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
    ],
)
def test_production_refuses_local_and_private_hosts_written_in_the_url(url: str) -> None:
    assert url_refusal(url, production=True) is not None


def test_production_accepts_https_to_a_name_or_a_public_address() -> None:
    assert url_refusal("https://hooks.example.com/x", production=True) is None
    assert url_refusal("https://93.184.216.34/x", production=True) is None


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.0.0.7"],
        ["172.16.4.4"],
        ["192.168.1.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["0.0.0.0"],
        ["::1"],
        ["fe80::1%eth0"],
        ["fd00::1"],
        ["::ffff:192.168.1.1"],
        ["224.0.0.1"],
        ["93.184.216.34", "10.0.0.7"],
    ],
)
def test_in_production_every_resolved_address_must_be_public(addresses: list[str]) -> None:
    refusal = address_refusal(addresses, production=True)
    assert refusal is not None
    assert "is not a public address" in refusal


def test_public_addresses_are_accepted_and_nothing_resolved_is_refused() -> None:
    assert address_refusal(["93.184.216.34", "2606:2800:220:1::"], production=True) is None
    assert address_refusal([], production=True) == "the host does not resolve"
    assert address_refusal([], production=False) == "the host does not resolve"
    assert address_refusal(["hooks.example.com"], production=True) == (
        "'hooks.example.com' is not an IP address"
    )


def test_outside_production_local_addresses_are_fine() -> None:
    assert address_refusal(["127.0.0.1"], production=False) is None


@given(url=st.one_of(st.text(max_size=80), st.from_regex(r"\Ahttps?://[^/]{0,30}(/.{0,20})?\Z")))
def test_any_text_gets_an_answer_and_production_takes_only_https(url: str) -> None:
    refusal = url_refusal(url, production=True)
    if refusal is None:
        assert url.startswith("https://")
    if url_refusal(url, production=False) is None:
        assert url.startswith(("https://", "http://localhost", "http://127.0.0.1"))


@given(
    addresses=st.lists(
        st.one_of(st.ip_addresses().map(str), st.text(max_size=20)), min_size=1, max_size=4
    )
)
def test_an_accepted_set_of_addresses_holds_only_public_ones(addresses: list[str]) -> None:
    if address_refusal(addresses, production=True) is None:
        for address in addresses:
            parsed = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
            assert parsed.is_global
