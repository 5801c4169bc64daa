"""`prepskul doctor` against healthy and broken sandbox configurations."""

from typing import Any

import pytest

from prepskul.runtime import build_runtime
from prepskul.services import doctor
from tests.integration.test_cli import prepskul


def _by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


@pytest.fixture
async def runtime_with(settings, database_url, clock) -> Any:  # type: ignore[no-untyped-def]
    made = []

    async def make(**overrides: Any) -> Any:
        url = overrides.pop("database_url", database_url)
        rt = build_runtime(settings.model_copy(update=overrides), clock=clock, database_url=url)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        await rt.close()


async def test_a_healthy_sandbox_passes_every_required_check(rt, sandbox) -> None:  # type: ignore[no-untyped-def]
    checks = _by_name(await doctor.run(rt))
    assert not [c for c in checks.values() if c.failed]
    assert checks["Google Calendar + Meet"].outcome == "ok"
    assert "va@prepskul.test invited" in checks["Google Calendar + Meet"].detail
    assert sandbox.calendar.events and all(
        e["status"] == "cancelled" for e in sandbox.calendar.events.values())  # cleaned up
    assert checks["Fathom webhook"].outcome == "warn"  # none registered yet: said, not fatal


async def test_a_service_account_without_delegation_is_explained(rt, sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.calendar.no_delegation = True
    check = _by_name(await doctor.run(rt))["Google Calendar + Meet"]
    assert check.failed
    assert "forbiddenForServiceAccounts" in check.detail
    assert "domain-wide delegation" in check.fix and "GOOGLE_DELEGATED_USER" in check.fix


async def test_wrong_provider_keys_fail_with_the_setting_to_fix(  # type: ignore[no-untyped-def]
        runtime_with, sandbox, settings) -> None:
    fake = settings.public_base_url + "/sandbox"  # keys given: the fakes must be named
    rt = await runtime_with(fapshi_api_user="sandbox-user", fapshi_api_key="FAK_TEST_wrong",
                            fapshi_base_url=f"{fake}/fapshi", fathom_api_key="wrong",
                            fathom_base_url=f"{fake}/fathom/external/v1")
    checks = _by_name(await doctor.run(rt))
    assert checks["Fapshi"].failed and "FAPSHI_API_KEY" in checks["Fapshi"].fix
    assert checks["Fathom"].failed and "FATHOM_API_KEY" in checks["Fathom"].fix


async def test_an_unmigrated_database_fails_with_the_command_to_run(
    runtime_with, empty_database, sandbox
) -> None:  # type: ignore[no-untyped-def]
    rt = await runtime_with(database_url=empty_database)
    check = await doctor.database(rt)
    assert check.failed and check.fix == "run `prepskul migrate`"
    await rt.engine.dispose()


async def test_test_keys_in_production_are_said_to_move_no_real_money(  # type: ignore[no-untyped-def]
        runtime_with, sandbox, settings) -> None:
    rt = await runtime_with(prepskul_env="production", fapshi_api_user="sandbox-user",
                            fapshi_api_key="FAK_TEST_sandbox",
                            fapshi_base_url=f"{settings.public_base_url}/sandbox/fapshi")
    check = await doctor.fapshi(rt)
    assert check.outcome == "warn" and not check.failed
    assert "no real money" in check.detail and "live keys" in check.fix


async def test_the_command_exits_non_zero_when_a_required_part_fails(
    settings, database_url, sandbox
) -> None:  # type: ignore[no-untyped-def]
    code, out = await prepskul(settings, database_url, "doctor")
    assert code == 0, out
    assert "✔ Fapshi" in out and "✔ ready" in out
    sandbox.calendar.no_delegation = True
    code, out = await prepskul(settings, database_url, "doctor")
    assert code == 1
    assert "✘ Google Calendar + Meet" in out and "→ the service account cannot invite" in out


async def test_an_unreachable_mail_server_fails_the_email_check(runtime_with) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    rt = await runtime_with(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    check = await doctor.smtp(rt)
    assert check.failed and "SMTP_URL" in check.fix


async def test_a_reachable_mail_server_passes(rt, mailbox) -> None:  # type: ignore[no-untyped-def]
    assert (await doctor.smtp(rt)).outcome == "ok"


async def test_readyz_says_not_ready_when_the_database_is_gone(runtime_with) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from prepskul.app import create_app
    from tests.conftest import free_port

    rt = await runtime_with(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    app = create_app(rt, mount_fakes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
        metrics = await client.get("/metrics")
    assert (ready.status_code, ready.json()["code"]) == (503, "database_unavailable")
    assert alive.status_code == 200 and metrics.status_code == 200


@pytest.mark.parametrize(("check", "overrides", "fix"), [
    ("fapshi_webhook", {"prepskul_env": "production", "fapshi_webhook_secret": None},
     "FAPSHI_WEBHOOK_SECRET"),
    ("fathom_webhook", {"prepskul_env": "production", "fathom_webhook_secret": None},
     "prepskul fathom webhook register"),
])
async def test_production_only_failures_are_required_there(
    runtime_with, check: str, overrides: dict[str, Any], fix: str
) -> None:
    from prepskul.config import Env

    rt = await runtime_with(**{**overrides, "prepskul_env": Env.PRODUCTION})
    result = await getattr(doctor, check)(rt)
    assert result.failed and fix in result.fix


async def test_a_public_url_without_https_or_unreachable_is_a_warning(
    runtime_with, sandbox
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    plain = await doctor.public_url(await runtime_with())
    assert (plain.outcome, plain.failed) == ("warn", False) and "HTTPS" in plain.fix
    gone = await doctor.public_url(
        await runtime_with(public_base_url=f"http://127.0.0.1:{free_port()}"))
    assert gone.outcome == "warn" and "does not answer" in gone.detail


async def test_production_without_a_metrics_token_is_told_metrics_are_closed(
    runtime_with,
) -> None:  # type: ignore[no-untyped-def]
    from prepskul.config import Env

    closed = await doctor.metrics_token(await runtime_with(prepskul_env=Env.PRODUCTION))
    assert (closed.outcome, closed.failed) == ("warn", False) and "METRICS_TOKEN" in closed.fix
    guarded = await doctor.metrics_token(await runtime_with(prepskul_env=Env.PRODUCTION,
                                                            metrics_token="scrape-secret"))
    assert guarded.outcome == "ok"


async def test_push_is_checked_by_asking_fcm_not_assumed(rt: Any, sandbox: Any) -> None:
    """The check asks FCM to validate a message (delivering none); a refusal is a failure."""
    check = await doctor.push(rt)
    assert (check.outcome, sandbox.fcm.sent) == ("ok", [])
    assert "validated" in check.detail
    sandbox.fcm.controls.fail_next(403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                                  "message": "Permission denied"}})
    refused = await doctor.push(rt)
    assert refused.failed and "403" in refused.detail
