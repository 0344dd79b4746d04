"""Errors of the codes domain, each with a stable ``code``."""

from __future__ import annotations
