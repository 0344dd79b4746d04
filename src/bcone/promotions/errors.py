"""Errors of the promotions domain, each with a stable ``code``."""

from __future__ import annotations
