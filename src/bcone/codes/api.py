"""HTTP API of the codes domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["codes"])
