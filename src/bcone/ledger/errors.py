"""Errors of the ledger domain, each with a stable ``code``."""

from __future__ import annotations
