"""Where a webhook may point, checked on the addresses its host resolves to.

A name checked once can resolve elsewhere later (DNS rebinding), so every attempt
resolves the host again, checks each address, and connects to the address it checked,
never to the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from reeldocs.core.errors import Invalid

MAX_URL_LENGTH = 2000

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Invalid):
    """The address is not one webhooks may be sent to."""


class HostNotFound(TargetRefused):
    """The host has no address now (no such name, or no network to ask)."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    addresses: tuple[IpAddress, ...]  # checked, in the order the resolver gave them


def parse_url(url: str) -> httpx.URL:
    """An http(s) address with a host and no credentials, or a 422 saying what to fix."""
    text = url.strip()
    if not text:
        raise Invalid("Give the address the webhook is sent to, such as https://example.com/hooks.")
    if len(text) > MAX_URL_LENGTH:
        raise Invalid(f"The webhook address is too long: at most {MAX_URL_LENGTH} characters.")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL:
        raise Invalid(
            f"{text!r} is not a web address: use one such as https://example.com/hooks."
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Invalid(
            f"{text!r} is not an http or https address: use one such as https://example.com/hooks."
        )
    if parsed.userinfo:
        raise Invalid(
            "Leave the user name and password out of the webhook address: receivers check the "
            "signature of each request instead."
        )
    if parsed.fragment:
        raise Invalid("The webhook address must not have a fragment (the part after '#').")
    return parsed


def refusal(address: IpAddress) -> str | None:
    """Why webhooks may not go to this address, in a few words; None when they may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or not address.is_global:
        return "not a public address"
    return None


async def resolve(url: httpx.URL) -> tuple[IpAddress, ...]:
    """The host's addresses (the resolver runs in a thread, the event loop goes on)."""
    host = url.host
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(
            host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror:
        raise HostNotFound(
            f"The host {host} could not be found: check the webhook address."
        ) from None
    addresses: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotFound(f"The host {host} has no address: check the webhook address.")
    return tuple(addresses)


async def check(url: httpx.URL, *, allow_private: bool) -> Target:
    """Resolve the host and refuse it when any of its addresses is not public (unless
    REELDOCS_WEBHOOK_ALLOW_PRIVATE is set): a receiver must not reach inside the network
    Reeldocs runs in."""
    addresses = await resolve(url)
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                shown = "" if url.host == str(address) else f" ({address})"
                raise TargetRefused(
                    f"Webhooks cannot be sent to {url.host}{shown}: it is {reason}. Use a "
                    "public address, or set REELDOCS_WEBHOOK_ALLOW_PRIVATE=true on a server "
                    "whose receivers run on its own network."
                )
    return Target(url=url, addresses=addresses)
