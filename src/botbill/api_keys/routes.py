"""HTTP routes of the api_keys package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
