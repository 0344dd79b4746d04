"""HTTP API of the promotions domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["promotions"])
