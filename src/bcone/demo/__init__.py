"""The demo brand: a deterministic, seeded generator of a believable beverage brand."""
