"""Every domain's tables, imported in one place for migrations and schema creation."""

from __future__ import annotations

from bcone.analytics import models as _analytics  # noqa: F401
from bcone.catalog import models as _catalog  # noqa: F401
from bcone.cdp import models as _cdp  # noqa: F401
from bcone.codes import models as _codes  # noqa: F401
from bcone.core import events as _events  # noqa: F401  (outbox table)
from bcone.core import jobs as _jobs  # noqa: F401
from bcone.core.db import Base
from bcone.crm import models as _crm  # noqa: F401
from bcone.iam import models as _iam  # noqa: F401
from bcone.ledger import models as _ledger  # noqa: F401
from bcone.network import models as _network  # noqa: F401
from bcone.promotions import models as _promotions  # noqa: F401
from bcone.store import models as _store  # noqa: F401
from bcone.store import order_models as _store_orders  # noqa: F401

metadata = Base.metadata
