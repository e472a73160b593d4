"""chain layer (see DESIGN.md)."""
