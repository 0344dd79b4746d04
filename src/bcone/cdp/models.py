"""Tables of the cdp domain."""

from __future__ import annotations
