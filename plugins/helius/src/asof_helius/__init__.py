"""asof provider plugin for Helius (not implemented yet)."""
