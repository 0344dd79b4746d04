"""Errors of the crm domain, each with a stable ``code``."""

from __future__ import annotations
