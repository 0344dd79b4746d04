"""Connectors: the order and customer exports of the platforms consumers buy on.

The issue names a ``connectors`` domain; it lives inside ``cdp`` as a subpackage because all it
does is turn platform files into CDP events and identities (see docs/connectors.md). Parsing
(:mod:`.platforms`, :mod:`.address`) is pure: no database, no secret.
"""
