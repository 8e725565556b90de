"""``botbill user``: people who sign in to the console."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from botbill.cli.common import fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work

user_app = typer.Typer(no_args_is_help=True, help="People who sign in to the console.")


def read_new_password() -> str:
    """The new password: typed twice at a terminal (not echoed), else the first line of
    standard input (so scripts can pipe it in; it never appears in ``ps``)."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise fail("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("password")
def user_password(
    email: Annotated[str, typer.Argument(help="The person's email.")],
) -> None:
    """Set the console password of EMAIL (every workspace it belongs to: one password per
    email), read from standard input. Signs the person out everywhere."""
    from botbill.audit.service import Actor
    from botbill.kit.problems import Problem
    from botbill.people.service import set_password

    password = read_new_password()
    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            set_password(session, email, password, actor=Actor.cli(), now=SystemClock().now())
    except Problem as error:
        raise fail(error.detail) from None
    print(f"password set for {email.strip().lower()}")
