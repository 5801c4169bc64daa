import pytest


@pytest.fixture(autouse=True)
def _clean(fresh_db: None) -> None:
    """Integration tests each start from a clean database."""


@pytest.fixture
def paid_after_cancellation(api, auth, book, pay, checkout, worker, rt):  # type: ignore[no-untyped-def]
    """A session cancelled while its checkout page was still open, then paid there: the
    money is owed back. Returns the payment row."""
    from sqlalchemy import select

    from prepskul.db.models import Payment

    async def make():  # type: ignore[no-untyped-def]
        session = await book("student")
        payment = await pay(session)
        await api.post(f"/api/sessions/{session['id']}/cancel", json={},
                       headers=auth("student"))
        await checkout(payment)
        await worker.drain()
        async with rt.sessions() as db:
            return (await db.scalars(select(Payment))).one()

    return make
