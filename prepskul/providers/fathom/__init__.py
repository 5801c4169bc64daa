"""Fathom, the AI note-taker: API client and the Meeting payload."""
