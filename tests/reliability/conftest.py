from typing import Any

import pytest

FIGURES: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture(autouse=True)
def _clean(fresh_db: None) -> None:
    """Each case starts from the demo users and nothing else."""


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Any:
    """`figures(tried=…, refused=…, victim_waited_s=…)`: shown in the run's summary."""

    def note(**values: Any) -> None:
        FIGURES.append((request.node.name, values))

    return note


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("attack figures")
    for name, values in FIGURES:
        shown = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in values.items())
        terminalreporter.write_line(f"{name}: {shown}")
