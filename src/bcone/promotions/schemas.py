"""Schemas of the promotions domain."""

from __future__ import annotations
