"""Campaign pages: `follow` (list, page, exports) and `compose` (draft to send)."""
