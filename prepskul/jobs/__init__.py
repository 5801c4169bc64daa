"""The durable queue and one handler per job kind."""
