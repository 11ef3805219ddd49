"""Password hashes for the customer page's user list (stdlib scrypt, no extra package).

A hash is one string, `scrypt$<n>$<r>$<p>$<salt>$<key>` (salt and key in
unpadded URL-safe base64), so it fits in an environment variable or a YAML
value. Make one with

    python -m cdp.serve.ui.passwords            # asks for the password twice
    printf '%s' "$PASSWORD" | python -m cdp.serve.ui.passwords --stdin
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
import sys

SCHEME = "scrypt"
# n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds per check (OWASP's
# minimum for scrypt), so a guessed password costs the guesser too.
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_MEMORY = 64 * 1024 * 1024


class HashError(ValueError):
    """A stored hash that is not in the `scrypt$n$r$p$salt$key` form; one line."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=MAX_MEMORY
    )


def hash_password(password: str) -> str:
    """A new salted hash of `password`."""
    if not password:
        raise ValueError("the password is empty")
    salt = os.urandom(SALT_BYTES)
    return "$".join(
        [SCHEME, str(N), str(R), str(P), _b64(salt), _b64(_derive(password, salt, N, R, P))]
    )


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """The parameters, salt and key of a stored hash; HashError when malformed."""
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise HashError(
            "not a scrypt$n$r$p$salt$key hash (make one: python -m cdp.serve.ui.passwords)"
        )
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        raise HashError("a scrypt hash with unreadable parameters, salt or key") from None
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or not salt or len(key) != KEY_BYTES:
        raise HashError("a scrypt hash with impossible parameters")
    if 128 * n * r * p > MAX_MEMORY:
        raise HashError("a scrypt hash whose parameters need more than 64 MiB")
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored` (constant-time compare of the keys)."""
    n, r, p, salt, key = parse_hash(stored)
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cdp.serve.ui.passwords",
        description="Print a password hash for CDP_UI_USERS / CDP_UI_USERS_FILE.",
    )
    parser.add_argument("--stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)
    if args.stdin:
        password = sys.stdin.read().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    if not password:
        print("error: the password is empty", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
