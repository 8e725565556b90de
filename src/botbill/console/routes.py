"""HTTP routes of the console package."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

STATIC_DIR = Path(__file__).parent / "static"
"""Styles, scripts and fonts of the console, served at ``/console/static``."""

router = APIRouter()
