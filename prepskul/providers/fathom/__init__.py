"""Fathom, the AI note-taker: API client and the Meeting payload."""

REAL_BASE_URL = "https://api.fathom.ai/external/v1"
