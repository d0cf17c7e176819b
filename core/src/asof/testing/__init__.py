"""Testing helpers for asof plugins."""
