"""PEC pages (thin: selectors filter by mailbox grant, services act)."""
