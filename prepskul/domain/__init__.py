"""Pure business rules: no I/O, no framework, no database. Tested without a server."""
