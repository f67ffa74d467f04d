"""A saved plan version's chart is drawn once, stored in ``plan_renders`` and then only read;
the stored chart goes with the account when it is deleted (it is a picture of the person's
plan)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from benzotaper.storage import Database
from benzotaper.storage.renders import PlanRender

from .conftest import PASSWORD, Visitor
from .test_journal import plan_started

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def renders(db: Database) -> list[bytes]:
    with db.read() as s:
        return list(s.scalars(select(PlanRender.body)))


def test_the_chart_is_drawn_once_then_read_and_deleted_with_the_account(
    visitor: Visitor,
) -> None:
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    visitor.signup("drawn@example.org")
    assert visitor.api("POST", "/api/plans", json=plan_started(40)).status_code == 201
    assert renders(db) == []  # nothing is drawn until the image is asked for

    first = visitor.client.get("/my-plan/chart.svg")
    assert first.status_code == 200 and b"<svg" in first.content
    assert renders(db) == [first.content]
    with db.transaction() as s:  # mark the stored chart: the next answer must come from it
        s.execute(PlanRender.__table__.update().values(body=first.content + b"<!-- kept -->"))
    again = visitor.client.get("/my-plan/chart.svg")
    assert again.content == first.content + b"<!-- kept -->"

    r = visitor.api("POST", "/api/account/delete", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(PlanRender)) == 0
