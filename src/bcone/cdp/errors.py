"""Errors of the cdp domain, each with a stable ``code``."""

from __future__ import annotations
