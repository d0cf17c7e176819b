"""The asof command line."""
