"""Campaign pages: `follow` (list, campaign page, exports) and `compose` (draft → send)."""
