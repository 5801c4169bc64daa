import pytest


@pytest.fixture(autouse=True)
def _clean(fresh_db: None) -> None:
    """Each case starts from the demo users and nothing else."""
