"""storage.db: SQLite reads on the loop's thread answer as the async engine does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from storage.db import Database, ReadSession, migrate
from storage.models import Case, Photo

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def _two_cases(session) -> None:
    for n, street in ((1, "温泉街道"), (2, "鼓东街道")):
        case = Case(number=f"GL-20261123-000{n}", state="new", category="road", lat=26.08, lon=119.29,
                    place_source="location", street=street, reporter_id=1000 + n, reporter_tag=f"R-{n}",
                    reporter_lang="zh", routed_by="polygon", created_at=NOW, updated_at=NOW)
        case.photos.append(Photo(position=0, stage="report", file_id=f"f{n}", file_unique_id=f"u{n}",
                                 sha256=f"{n:064d}", width=320, height=240))
        session.add(case)


@pytest.mark.parametrize("inline", [True, False])
async def test_reads_answer_alike_and_outlive_the_session(database_url, inline):
    url = database_url
    migrate(url)
    db = Database(url, inline_reads=inline)  # not inline: as a server database is read
    try:
        await db.write(_two_cases)
        async with db.sessions() as s:
            assert isinstance(s, ReadSession) == inline
            first = await s.get(Case, 1)
            count = await s.scalar(select(func.count(Case.id)))
            cases = await s.scalars(select(Case).options(selectinload(Case.photos)).order_by(Case.id))
            rows = await s.execute(select(Case.number, Case.street).order_by(Case.id.desc()))
        # used after the block: the results were read in full inside it
        assert first.number == "GL-20261123-0001" and count == 2
        assert [(c.street, [p.file_id for p in c.photos]) for c in cases.all()] == \
            [("温泉街道", ["f1"]), ("鼓东街道", ["f2"])]
        assert rows.all() == [("GL-20261123-0002", "鼓东街道"), ("GL-20261123-0001", "温泉街道")]
    finally:
        await db.dispose()
