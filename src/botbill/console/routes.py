"""The console's routes: one router per section, all under ``/console``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from botbill.console import billing_sessions, operator, orders, plan, sign_in, usage

STATIC_DIR = Path(__file__).parent / "static"
"""Styles, scripts and fonts of the console, served at ``/console/static``."""

router = APIRouter(include_in_schema=False)
for section in (sign_in, billing_sessions, orders, plan, usage, operator):
    router.include_router(section.router)
