"""asof provider plugin for Allium (not implemented yet)."""
