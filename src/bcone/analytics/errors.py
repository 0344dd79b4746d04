"""Errors of the analytics domain, each with a stable ``code``."""

from __future__ import annotations
