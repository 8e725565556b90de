"""HTTP routes of the webhooks package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
