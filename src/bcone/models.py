"""Every domain's tables, imported in one place for migrations and schema creation."""

from __future__ import annotations

from bcone.catalog import models as _catalog  # noqa: F401
from bcone.core import events as _events  # noqa: F401  (outbox table)
from bcone.core import jobs as _jobs  # noqa: F401
from bcone.core.db import Base
from bcone.iam import models as _iam  # noqa: F401
from bcone.network import models as _network  # noqa: F401

metadata = Base.metadata
