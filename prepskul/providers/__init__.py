"""Async clients for the outside world, one folder per provider, with typed errors."""
