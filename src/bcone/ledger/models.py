"""Tables of the ledger domain."""

from __future__ import annotations
