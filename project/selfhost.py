"""What a self-hosted Shelf works out for itself: a secret key kept in a file, and the names
and addresses this machine answers to on the local network.

Both are read by `project/settings.py` before Django is set up, so nothing here imports Django.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import socket
import sys
from pathlib import Path

# Documentation addresses (RFC 5737, RFC 3849): connecting a UDP socket to one sends nothing,
# it only asks the kernel which local address would be used to reach the network.
_PROBE_V4 = "192.0.2.1"
_PROBE_V6 = "2001:db8::1"
_MIN_KEY_LENGTH = 50


class SecretKeyFileError(Exception):
    """The secret key file is unreadable, or holds something that is not a key."""


def secret_key_from_file(path: Path) -> str:
    """The key kept in `path`, written there first (mode 0600) if the file does not exist.

    Processes starting together (the web server and the worker) may all find the file missing:
    each writes a key to a private temporary file and links it into place, which only the first
    can do, so every process ends up reading the same key, and none reads a half-written file.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(50) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: its key it is
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as error:
        raise SecretKeyFileError(
            f"Could not write a secret key to {path} ({error.strerror}): "
            "set SECRET_KEY, or SECRET_KEY_FILE to a file in a folder Shelf can write to."
        ) from error
    return _read_key(path)


def _read_key(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise SecretKeyFileError(f"Could not read the secret key in {path}: {error}") from error
    if len(key) < _MIN_KEY_LENGTH:
        raise SecretKeyFileError(
            f"{path} holds no usable secret key (it needs at least {_MIN_KEY_LENGTH} characters). "
            "Delete the file to have a new key made (everyone will have to sign in again), "
            "or set SECRET_KEY."
        )
    return key


def is_wildcard(host: str) -> bool:
    """Whether a bind address means every interface (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def network_hosts(bind_host: str) -> list[str]:
    """The host names a browser on the local network may use to reach a server bound to
    `bind_host`: the machine's name (and its `.local` name), and its own addresses; for a
    specific address, that address alone. Loopback addresses are left to the defaults."""
    if not is_wildcard(bind_host):
        return [_host_header_form(bind_host.strip("[]"))]
    name = socket.gethostname().split(".")[0]
    names = [name, f"{name}.local"] if name and name != "localhost" else []
    return names + [_host_header_form(address) for address in sorted(machine_addresses())]


def machine_addresses() -> set[str]:
    """This machine's own non-loopback, non-link-local addresses, found without asking DNS:
    the address of the default route (IPv4 and IPv6) and, on Linux, each interface's IPv4."""
    found = set()
    for family, probe in ((socket.AF_INET, _PROBE_V4), (socket.AF_INET6, _PROBE_V6)):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe_socket:
                probe_socket.connect((probe, 9))
                found.add(probe_socket.getsockname()[0])
        except OSError:
            pass  # no route of that family: nothing to add
    if sys.platform.startswith("linux"):
        found |= _linux_interface_addresses()
    return {address for address in found if _reachable_from_lan(address)}


def _linux_interface_addresses() -> set[str]:
    import fcntl
    import struct

    siocgifaddr = 0x8915
    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as query:
        for _, interface in socket.if_nameindex():
            request = struct.pack("256s", interface.encode()[:15])
            try:
                answer = fcntl.ioctl(query.fileno(), siocgifaddr, request)
            except OSError:
                continue  # an interface without an IPv4 address
            found.add(socket.inet_ntoa(answer[20:24]))
    return found


def _reachable_from_lan(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return not (parsed.is_loopback or parsed.is_link_local or parsed.is_unspecified)


def _host_header_form(address: str) -> str:
    """An address as it appears in a Host header: IPv6 in brackets."""
    try:
        return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address  # a host name
