"""devnet layer (see DESIGN.md)."""
