import pytest


@pytest.fixture(autouse=True)
def _clean(fresh_db: None) -> None:
    """Integration tests each start from a clean database."""
