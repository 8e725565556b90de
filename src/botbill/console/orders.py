"""Console pages: Orders & Invoices."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
