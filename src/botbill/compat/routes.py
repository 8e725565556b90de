"""HTTP routes of the compat package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
