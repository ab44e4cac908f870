"""Which URLs a webhook may reach: http(s) only, public addresses only unless a host or network is
listed in STORYLOOM_WEBHOOKS__ALLOW. The check runs when the request comes in and again, after a
fresh DNS lookup, before every attempt; the attempt then connects to the address that was checked,
so a name that resolves to a public address first and a private one later (DNS rebinding) gets nowhere."""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_CHARS = 2048
SCHEMES = ("http", "https")
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(ValueError):
    """A webhook URL Storyloom will not call; the message says why in one line."""


@dataclass(frozen=True)
class Allowed:
    """The parsed STORYLOOM_WEBHOOKS__ALLOW: host names and networks that may be private."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`, already vetted) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def allow_list(text: str) -> Allowed:
    """`127.0.0.1,10.0.0.0/8,hooks.internal` parsed; ValueError naming an entry that is neither."""
    hosts, networks = set(), []
    for entry in (part.strip().lower() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if not _HOSTNAME.fullmatch(entry) or len(entry) > 253:
                raise ValueError(f"webhook allow entry {entry[:100]!r} is neither a host, an address nor a "
                                 "network") from None
            hosts.add(entry.rstrip("."))
    return Allowed(frozenset(hosts), tuple(networks))


def parse(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of a URL Storyloom could call, else Refused."""
    if len(url) > MAX_URL_CHARS:
        raise Refused(f"longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise Refused("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise Refused(f"only http and https URLs are called, not {parts.scheme.lower()[:20] or 'a relative URL'}")
    if not parts.hostname:
        raise Refused("has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("may not carry a user name or password; put a token in the path or query instead")
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname.rstrip("."), port or (443 if scheme == "https" else 80), path


def resolve(url: str, allowed: Allowed) -> Target:
    """The URL checked and resolved now: Refused unless it has an address Storyloom may reach."""
    scheme, host, port, path = parse(url)
    addresses = _lookup(host, port)
    usable = addresses if host in allowed.hosts else [a for a in addresses if _permitted(a, allowed)]
    if not usable:
        raise Refused(f"{host} is a private, loopback, link-local or otherwise non-public address "
                      f"({addresses[0]}); list it in STORYLOOM_WEBHOOKS__ALLOW to call it")
    return Target(scheme, host, port, path, str(usable[0]))


def _lookup(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(f"the host {host[:100]} does not resolve") from None
    found = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    if not found:
        raise Refused(f"the host {host[:100]} does not resolve")
    return found


def _permitted(address: Address, allowed: Allowed) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed.networks):
        return True
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)
