"""Platform primitives that know no business domain."""
