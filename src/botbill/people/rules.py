"""The sign-in rules as plain functions: the failure throttle, idle expiry, tokens.

No storage, clock or HTTP here: ``now`` is passed in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from botbill.kit.instants import Micros

SECOND: Micros = 1_000_000
MINUTE: Micros = 60 * SECOND
HOUR: Micros = 60 * MINUTE

FAILURE_LIMIT = 5
"""Failed sign-ins of one (email, client address) pair that lock the pair..."""
FAILURE_WINDOW: Micros = 15 * MINUTE
"""...when they fall within this span..."""
LOCKOUT: Micros = 15 * MINUTE
"""...for this long after the last of them."""

IDLE_TIMEOUT: Micros = 12 * HOUR
"""A console session unused this long is over."""
TOUCH_INTERVAL: Micros = MINUTE
"""A session's last use is written at most this often (a page view is not a write)."""


def locked_until(failures: Iterable[Micros], now: Micros) -> Micros | None:
    """When the pair may try again, or ``None`` when it may now.

    The pair is locked for ``LOCKOUT`` after any failure that completes ``FAILURE_LIMIT``
    failures within ``FAILURE_WINDOW``. Attempts refused while locked are not failures
    (the password is never checked), so a lock is never extended by knocking on it.
    """
    times = sorted(at for at in failures if at <= now)
    until: Micros | None = None
    for last in range(FAILURE_LIMIT - 1, len(times)):
        if times[last] - times[last - FAILURE_LIMIT + 1] <= FAILURE_WINDOW:
            end = times[last] + LOCKOUT
            until = end if until is None else max(until, end)
    return until if until is not None and until > now else None


def retry_after_seconds(until: Micros, now: Micros) -> int:
    """Whole seconds until ``until`` (rounded up, at least 1): a ``Retry-After`` value."""
    return max(1, -(-(until - now) // SECOND))


def failures_worth_keeping(now: Micros) -> Micros:
    """Failures before this instant can no longer lock anyone."""
    return now - FAILURE_WINDOW - LOCKOUT


def session_expired(last_seen_at: Micros, now: Micros) -> bool:
    return now - last_seen_at >= IDLE_TIMEOUT


def should_touch(last_seen_at: Micros, now: Micros) -> bool:
    return now - last_seen_at >= TOUCH_INTERVAL


def new_token() -> str:
    """A session or pre-session token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a session token: a database reader cannot sign in with it."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of a session (or pre-session) token: derived, so never stored, and
    unknown to anyone without the cookie (a different digest from the stored one)."""
    return hashlib.sha256(b"botbill-csrf|" + token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time (no timing hint of how much of a guess was right)."""
    return secrets.compare_digest(given.encode(), expected.encode())
