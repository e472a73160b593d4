"""scan layer (see DESIGN.md)."""
# config → streams (what to index) → runner (reorgs, chunks, cursors) → snapshot + alerts; schedule for --every.
