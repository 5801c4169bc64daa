"""Fapshi, Cameroon's mobile-money payments: client and wire models."""
