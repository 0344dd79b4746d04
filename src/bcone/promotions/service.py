"""The promotions domain's behaviour: the only entry other domains may call."""

from __future__ import annotations
