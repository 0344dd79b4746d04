"""Schemas of the ledger domain: API input and output, and the contracts other domains receive."""

from __future__ import annotations
