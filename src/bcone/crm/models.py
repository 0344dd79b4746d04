"""Tables of the crm domain."""

from __future__ import annotations
