"""Console pages: Billing Sessions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
