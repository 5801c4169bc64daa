"""The family pages use the families' rules: a parent adds, edits and unlinks a child and
makes a code on /children, a child accepts it on /invitation, and the booking page shows
the picked child's sibling discount. Refusals come back as a notice and change nothing."""

import uuid
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select

from prepskul.api.auth import mint_token
from prepskul.db.models import ParentLink, Profile
from prepskul.domain.people import Role
from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET

FORM = {"csrf": "form-token"}


def _cookies(who: str | uuid.UUID) -> dict[str, str]:
    if isinstance(who, uuid.UUID):
        token = mint_token(JWT_SECRET, who, role=Role.STUDENT, name="Kid")
    else:
        user = demo_user(who)
        token = mint_token(JWT_SECRET, user.id, role=user.role, name=user.name)
    return {"Cookie": f"prepskul_token={token}; prepskul_csrf=form-token"}


async def _post(api: Any, who: str | uuid.UUID, path: str, **data: str) -> Any:
    return await api.post(path, data={**FORM, **data}, headers=_cookies(who),
                          follow_redirects=False)


async def test_a_parent_manages_children_and_a_child_accepts_a_code_on_the_pages(
    api: Any, rt: Any
) -> None:
    added = await _post(api, "parent", "/children", full_name="Bibi", level="primary",
                        school="Bastos", lang="en")
    assert added.status_code == 303 and "Bibi" in unquote(added.headers["location"])
    page = (await api.get("/children", headers=_cookies("parent"))).text
    child_id = next(part.split('"')[0] for part in page.split('data-child="')[1:]
                    if "Bibi" in part.split("</li>")[0])
    edited = await _post(api, "parent", f"/children/{child_id}", full_name="Bibi M.",
                         level="lower_secondary", school="", lang="fr")
    assert "notice=%E2%9C%93" in edited.headers["location"]
    made = await _post(api, "parent", "/invitations", child_id=child_id)
    assert made.status_code == 200 and 'id="invitation-code"' in made.text
    code = made.text.split("<code>")[1].split("</code>")[0]
    kid = uuid.uuid4()
    accepted = await _post(api, kid, "/invitation", code=code)
    assert accepted.headers["location"].startswith("/sessions?notice=")
    again = await _post(api, uuid.uuid4(), "/invitation", code=code)
    assert again.headers["location"].startswith("/invitation?notice=")
    async with rt.sessions() as db:
        old = await db.get(Profile, uuid.UUID(child_id))
        assert old is not None
        assert (old.full_name, old.school, old.merged_into_id) == ("Bibi M.", None, kid)


async def test_refusals_on_the_family_pages_change_nothing(api: Any, rt: Any) -> None:
    for data in ({"full_name": "  "}, {"full_name": "x" * 121},
                 {"full_name": "Bibi", "lang": "de"}):
        refused = await _post(api, "parent", "/children", **data)
        assert refused.headers["location"].startswith("/children?notice=")
    other = await _post(api, "parent", f"/children/{uuid.uuid4()}/unlink")
    assert other.headers["location"].startswith("/children?notice=")
    student = await api.get("/children", headers=_cookies("student"), follow_redirects=False)
    assert student.headers["location"].startswith("/sessions?notice=")
    async with rt.sessions() as db:
        assert (await db.scalars(select(Profile).where(Profile.managed_by_id.is_not(None)))
                ).all() == []
        assert (await db.scalars(select(ParentLink.ended_at))).all() == [None]


async def test_the_booking_page_shows_the_picked_childs_sibling_discount(
    api: Any, book: Any
) -> None:
    await _post(api, "parent", "/children", full_name="Bibi")
    tutor = demo_user("tutor").id
    page = (await api.get(f"/tutors/{tutor}", headers=_cookies("parent"))).text
    day = page.split('data-day="')[2].split('"')[0]  # the second day offered
    awa = str(demo_user("child").id)
    chosen = (await api.get(f"/tutors/{tutor}?day={day}&child={awa}",
                            headers=_cookies("parent"))).text
    assert 'id="sibling-discount"' not in chosen and "5000 XAF" in chosen
    starts = chosen.split('name="starts_at" value="')[1].split('"')[0]
    await book("parent", student_id=awa, starts_at=starts)
    bibi = next(p.split('"')[0] for p in chosen.split('<option value="')[1:]
                if "Bibi" in p.split("</option>")[0])
    other = (await api.get(f"/tutors/{tutor}?day={day}&child={bibi}",
                           headers=_cookies("parent"))).text
    assert "4250 XAF" in other and "750 XAF" in other.split('id="sibling-discount"')[1]
    assert f'name="student_id" value="{bibi}"' in other
