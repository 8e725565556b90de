"""The sign-in rules alone: the failure throttle, idle expiry, tokens, passwords."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botbill.people import passwords, rules
from botbill.people.rules import FAILURE_WINDOW, LOCKOUT, MINUTE, SECOND, locked_until

T = 1_800_000_000 * SECOND


def test_four_failures_never_lock() -> None:
    failures = [T + i * MINUTE for i in range(4)]
    assert locked_until(failures, T + 4 * MINUTE) is None


def test_the_fifth_failure_within_15_minutes_locks_for_15_minutes() -> None:
    failures = [T + i * MINUTE for i in range(5)]
    assert locked_until(failures, T + 4 * MINUTE) == T + 4 * MINUTE + LOCKOUT
    assert locked_until(failures, T + 4 * MINUTE + LOCKOUT - 1) == T + 4 * MINUTE + LOCKOUT
    assert locked_until(failures, T + 4 * MINUTE + LOCKOUT) is None


def test_five_failures_spread_over_more_than_15_minutes_do_not_lock() -> None:
    failures = [T + i * (FAILURE_WINDOW // 4 + 1) for i in range(5)]
    assert failures[-1] - failures[0] > FAILURE_WINDOW
    assert locked_until(failures, failures[-1]) is None


def test_exactly_15_minutes_between_first_and_fifth_still_locks() -> None:
    failures = [T, T + MINUTE, T + 2 * MINUTE, T + 3 * MINUTE, T + FAILURE_WINDOW]
    assert locked_until(failures, T + FAILURE_WINDOW) == T + FAILURE_WINDOW + LOCKOUT


def test_failures_in_the_future_of_now_are_ignored() -> None:
    assert locked_until([T + i for i in range(5)], T - 1) is None


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    assert rules.retry_after_seconds(T + SECOND + 1, T) == 2
    assert rules.retry_after_seconds(T + 1, T) == 1
    assert rules.retry_after_seconds(T + LOCKOUT, T) == 900


def locked_by_definition(failures: list[int], now: int) -> bool:
    """The rule as worded: some failure completed 5 within 15 minutes, less than 15
    minutes ago."""
    past = [f for f in failures if f <= now]
    return any(
        now < last + LOCKOUT
        and sum(1 for f in past if last - FAILURE_WINDOW <= f <= last) >= rules.FAILURE_LIMIT
        for last in past
    )


@given(
    st.lists(st.integers(min_value=0, max_value=3 * LOCKOUT), max_size=12),
    st.integers(min_value=0, max_value=4 * LOCKOUT),
)
def test_the_throttle_locks_exactly_as_the_rule_says(offsets: list[int], at: int) -> None:
    failures = [T + offset for offset in offsets]
    assert (locked_until(failures, T + at) is not None) == locked_by_definition(failures, T + at)


@given(st.lists(st.integers(min_value=0, max_value=3 * LOCKOUT), max_size=12))
def test_a_lock_never_lasts_beyond_15_minutes_after_the_last_failure(offsets: list[int]) -> None:
    failures = [T + offset for offset in offsets]
    now = T + LOCKOUT
    until = locked_until(failures, now)
    if until is not None:
        assert now < until <= max(f for f in failures if f <= now) + LOCKOUT
        assert len([f for f in failures if f <= now]) >= rules.FAILURE_LIMIT


def test_a_session_expires_after_12_hours_idle() -> None:
    assert not rules.session_expired(T, T + rules.IDLE_TIMEOUT - 1)
    assert rules.session_expired(T, T + rules.IDLE_TIMEOUT)


def test_last_use_is_written_at_most_once_a_minute() -> None:
    assert not rules.should_touch(T, T + MINUTE - 1)
    assert rules.should_touch(T, T + MINUTE)


def test_tokens_are_random_and_their_digests_differ_from_their_csrf_tokens() -> None:
    first, second = rules.new_token(), rules.new_token()
    assert first != second
    assert len(first) >= 43
    assert rules.token_hash(first) != rules.csrf_token(first)
    assert rules.csrf_token(first) != rules.csrf_token(second)
    assert rules.same_secret(rules.csrf_token(first), rules.csrf_token(first))
    assert not rules.same_secret(rules.csrf_token(first), rules.csrf_token(second))


def test_passwords_are_argon2id_and_checked() -> None:
    stored = passwords.hash_password("a long enough secret")
    assert stored.startswith("$argon2id$")
    assert passwords.check_password(stored, "a long enough secret")
    assert not passwords.check_password(stored, "a long enough secreT")
    assert not passwords.check_password(None, "a long enough secret")
    assert not passwords.check_password("not a hash", "a long enough secret")


def test_new_passwords_need_ten_characters_and_no_nul() -> None:
    assert passwords.password_problem("short") is not None
    assert passwords.password_problem("ten chars!") is None
    assert passwords.password_problem("ten chars!\x00") is not None
    assert passwords.password_problem("x" * (passwords.MAX_LENGTH + 1)) is not None
