"""asof provider plugin for Pacifica (not implemented yet)."""
