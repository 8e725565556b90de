"""Console pages: the platform operator's."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
