"""iam domain."""
