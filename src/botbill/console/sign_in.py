"""Console pages: signing in and out, choosing a workspace."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
