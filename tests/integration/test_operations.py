"""What operators do: replay a failed webhook, replay or purge a dead job, read what each
job did, see only as admins; finished jobs kept for a retention, not forever."""

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from prepskul.db.models import InboxState, Job, JobStatus, WebhookEvent


async def test_an_operator_replays_a_webhook_whose_processing_failed(
    api, auth, book, pay, checkout, sandbox, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    await checkout(payment, "pay")
    sandbox.fapshi.controls.fail_next(503, times=3)  # payment-status is down when we ask
    await worker.drain()
    [event] = (await api.get("/api/admin/webhooks?provider=fapshi",
                             headers=auth("admin"))).json()
    assert event["state"] == "failed" and "503" in event["error"]
    replayed = await api.post(f"/api/admin/webhooks/{event['id']}/replay", headers=auth("admin"))
    assert replayed.status_code == 200
    await worker.drain()
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")  # the Meet job ran
    [event] = (await api.get("/api/admin/webhooks", headers=auth("admin"))).json()
    assert event["state"] == "processed"


async def test_a_rejected_delivery_cannot_be_replayed(api, auth) -> None:  # type: ignore[no-untyped-def]
    await api.post("/api/webhooks/fapshi", json={"transId": "ABCDEFGH", "status": "SUCCESSFUL"})
    [event] = (await api.get("/api/admin/webhooks?state=rejected", headers=auth("admin"))).json()
    refused = await api.post(f"/api/admin/webhooks/{event['id']}/replay", headers=auth("admin"))
    assert (refused.status_code, refused.json()["code"]) == (409, "rejected_webhook")


async def test_a_dead_job_is_replayed_once_its_cause_is_fixed(
    api, auth, paid_session, sandbox, worker
) -> None:  # type: ignore[no-untyped-def]
    sandbox.calendar.no_delegation = True
    session = await paid_session()
    [dead] = (await api.get("/api/admin/jobs?status=dead", headers=auth("admin"))).json()
    assert dead["kind"] == "create_meeting"
    sandbox.calendar.no_delegation = False  # the operator granted delegation
    assert (await api.post(f"/api/admin/jobs/{dead['id']}/replay",
                           headers=auth("admin"))).status_code == 204
    await worker.drain()
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")
    again = await api.post(f"/api/admin/jobs/{dead['id']}/replay", headers=auth("admin"))
    assert again.status_code == 409


@pytest.mark.parametrize("path", ["/api/admin/webhooks", "/api/admin/jobs",
                                  "/api/admin/recordings/unassigned",
                                  "/api/admin/sessions/attention"])
async def test_the_console_is_for_operators_only(api, auth, path: str) -> None:  # type: ignore[no-untyped-def]
    for who in ("student", "tutor", "parent"):
        assert (await api.get(path, headers=auth(who))).status_code == 403
    assert (await api.get(path, headers=auth("admin"))).status_code == 200


async def test_a_handlers_outcome_is_shown_in_the_operators_job_view(
    api: Any, auth: Any, paid_session: Any
) -> None:
    await paid_session()
    done = (await api.get("/api/admin/jobs?status=done", headers=auth("admin"))).json()
    outcomes = {job["kind"]: job["outcome"] for job in done}
    assert outcomes["process_fapshi_webhook"] == "successful: session paid"
    assert outcomes["create_meeting"].startswith("conference ")


async def test_finished_jobs_go_after_the_retention_and_dead_ones_stay(
    api: Any, auth: Any, paid_session: Any, sandbox: Any, worker: Any, rt: Any, clock: Any
) -> None:
    sandbox.calendar.no_delegation = True  # create_meeting dies
    await paid_session()
    before = (await api.get("/api/admin/jobs", headers=auth("admin"))).json()
    assert {"done", "dead"} <= {job["status"] for job in before}
    clock.advance(timedelta(days=rt.settings.job_retention_days, hours=1))
    await worker.drain()  # the hourly purge is due
    after = (await api.get("/api/admin/jobs", headers=auth("admin"))).json()
    old_ids = {job["id"] for job in before}
    assert [job["kind"] for job in after if job["id"] in old_ids] == ["create_meeting"]
    assert [job["outcome"] for job in after if job["kind"] == "purge_finished_jobs"] == [
        f"{sum(job['status'] == 'done' for job in before)} finished jobs purged"]


async def test_an_operator_purges_a_dead_job_but_nothing_that_is_not_dead(
    api: Any, auth: Any, paid_session: Any, sandbox: Any
) -> None:
    sandbox.calendar.no_delegation = True
    await paid_session()
    [dead] = (await api.get("/api/admin/jobs?status=dead", headers=auth("admin"))).json()
    done = (await api.get("/api/admin/jobs?status=done", headers=auth("admin"))).json()[0]
    refused = await api.delete(f"/api/admin/jobs/{done['id']}", headers=auth("admin"))
    assert (refused.status_code, refused.json()["code"]) == (409, "not_dead")
    assert (await api.delete(f"/api/admin/jobs/{dead['id']}", headers=auth("admin"))
            ).status_code == 204
    assert (await api.get("/api/admin/jobs?status=dead", headers=auth("admin"))).json() == []
    assert (await api.delete(f"/api/admin/jobs/{dead['id']}", headers=auth("student"))
            ).status_code == 403


async def test_the_console_and_metrics_agree_on_what_needs_attention(
    api: Any, auth: Any, paid_session: Any, sandbox: Any
) -> None:
    def meet_failed_gauge(exported: str) -> float:
        found = re.search(r'^prepskul_attention\{what="meet_link_failed"\} ([\d.]+)$',
                          exported, re.M)
        assert found, exported
        return float(found.group(1))

    sandbox.calendar.no_delegation = True  # no Meet link can be made
    session = await paid_session()
    listed = (await api.get("/api/admin/sessions/attention", headers=auth("admin"))).json()
    assert [s["id"] for s in listed] == [session["id"]]
    assert meet_failed_gauge((await api.get("/metrics")).text) == 1
    cancelled = await api.post(f"/api/sessions/{session['id']}/cancel", json={},
                               headers=auth("student"))
    assert cancelled.status_code == 200, cancelled.text
    assert (await api.get("/api/admin/sessions/attention", headers=auth("admin"))).json() == []
    assert meet_failed_gauge((await api.get("/metrics")).text) == 0


async def test_job_and_delivery_states_are_read_as_enums_and_unknown_filters_are_422(
    api, auth, paid_session, rt
) -> None:  # type: ignore[no-untyped-def]
    await paid_session()  # jobs ran, Fapshi's webhook stored and processed
    async with rt.sessions() as db:
        jobs = (await db.scalars(select(Job))).all()
        deliveries = (await db.scalars(select(WebhookEvent))).all()
    assert jobs and all(isinstance(j.status, JobStatus) for j in jobs)
    assert deliveries and all(isinstance(d.state, InboxState) for d in deliveries)
    for path in ("/api/admin/jobs?status=finished", "/api/admin/webhooks?state=lost"):
        refused = await api.get(path, headers=auth("admin"))
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request"), path
    done = await api.get("/api/admin/jobs?status=done", headers=auth("admin"))
    assert done.status_code == 200 and {j["status"] for j in done.json()} == {"done"}
