"""HTTP API of the cdp domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["cdp"])
