"""Running a console form's action: one unit of work, and a business error shown on the
page instead of a problem+json body."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from botbill.kit.db import unit_of_work
from botbill.kit.problems import Invalid, Problem

T = TypeVar("T")


def attempt(engine: Engine, action: Callable[[Session], T]) -> T | Problem:
    """``action``'s answer, done in a write unit of work; on a business error it rolls
    back (nothing changed) and the error is returned for the page to show."""
    try:
        with unit_of_work(engine, write=True) as session:
            return action(session)
    except Problem as problem:
        return problem


def invalid_form(error: ValidationError) -> Invalid:
    """A form that the API's request schema refuses, worded for a person."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "form"
    return Invalid(f"{field}: {first['msg']}")
