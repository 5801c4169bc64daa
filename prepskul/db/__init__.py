"""Postgres: models, migrations, the embedded server, engine and sessions."""
