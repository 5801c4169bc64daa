"""Fake Fapshi, Google Calendar and Fathom servers that speak the real wire protocols.
Used by the tests and by the offline demo; never by a production process."""
