"""Builds the fakes from the settings and mounts them under /sandbox in our own server, so
the one-process demo (and the tests) reach them over real HTTP at configurable base URLs."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from prepskul.providers.fapshi import TEST_KEY_PREFIX
from prepskul.providers.fcm.client import SANDBOX_PROJECT
from prepskul.providers.fcm.client import SANDBOX_TOKEN as FCM_TOKEN
from prepskul.providers.google_calendar.credentials import SANDBOX_TOKEN
from prepskul.runtime import Runtime
from prepskul.sandbox.fapshi import FakeFapshi
from prepskul.sandbox.fathom import INCLUDES, Destination, FakeFathom
from prepskul.sandbox.fcm import FakeFcm
from prepskul.sandbox.google_calendar import FakeCalendar
from prepskul.sandbox.harness import FakeControls
from prepskul.sandbox.supabase_auth import FakeSupabaseAuth


@dataclass
class Sandbox:
    fapshi: FakeFapshi
    calendar: FakeCalendar
    fathom: FakeFathom
    fcm: FakeFcm
    supabase_auth: FakeSupabaseAuth

    def reset(self) -> None:
        self.fcm.reset()
        self.fapshi.reset()
        self.calendar.reset()
        self.fathom.reset()


def build_sandbox(rt: Runtime) -> Sandbox:
    s = rt.settings
    base = s.public_base_url.rstrip("/")
    fapshi = FakeFapshi(
        controls=FakeControls(rt.clock),
        api_user=s.fapshi_api_user or "sandbox-user",
        api_key=s.fapshi_api_key or f"{TEST_KEY_PREFIX}sandbox",
        public_url=rt.sandbox_url("fapshi"),
        webhook_url=f"{base}/api/webhooks/fapshi",
        webhook_secret=s.fapshi_webhook_secret,
    )
    calendar = FakeCalendar(controls=FakeControls(rt.clock), token=SANDBOX_TOKEN)
    # Until a webhook is registered through its API, the fake delivers to our endpoint,
    # signed with the newest configured secret, as a dashboard-made webhook would.
    default = Destination("dashboard", f"{base}/api/webhooks/fathom", s.fathom_secrets[-1],
                          {k: k != "include_crm_matches" for k in INCLUDES})
    fathom = FakeFathom(controls=FakeControls(rt.clock),
                        api_key=s.fathom_api_key or "sandbox-fathom-key",
                        default_destination=default)
    fcm = FakeFcm(controls=FakeControls(rt.clock), token=FCM_TOKEN, project_id=SANDBOX_PROJECT)
    return Sandbox(fapshi=fapshi, calendar=calendar, fathom=fathom, fcm=fcm,
                   supabase_auth=FakeSupabaseAuth(FakeControls(rt.clock)))


def mount_fakes(app: FastAPI, rt: Runtime, prefix: str) -> Sandbox:
    sandbox = build_sandbox(rt)
    app.mount(f"{prefix}/fapshi", sandbox.fapshi.app())
    app.mount(f"{prefix}/google", sandbox.calendar.app())
    app.mount(f"{prefix}/fathom", sandbox.fathom.app())
    app.mount(f"{prefix}/fcm", sandbox.fcm.app())
    app.mount(f"{prefix}/supabase", sandbox.supabase_auth.app())
    app.state.sandbox = sandbox
    return sandbox
