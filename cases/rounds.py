"""Rounds of a case: "not satisfied" starts a new one (reopen_count + 1).

Every button that belongs to one round (resolve, the citizen's rating, the mutual ratings, an
extension's decision) carries the round it was made for, and so does each card (Card.round). When
the case has moved on, the old button or card is refused as out of date instead of acting on the
new round: an old 不满意 left on screen by a failed edit cannot reopen the case a second time.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Case, Event


def moved_on(case: Case | None, round_: int | None) -> bool:
    """True when a button or card of `round_` no longer belongs to the case's current round.
    None: data made before buttons carried their round; it is checked against the state only."""
    return round_ is not None and case is not None and case.reopen_count != round_


async def reopen_comment(sessions, case_id: int) -> str | None:
    """The citizen's words with the last "not satisfied", if any: why the case came back."""
    async with sessions() as session:
        events = list(await session.scalars(select(Event).where(
            Event.case_id == case_id, Event.kind.in_(("rated", "rating_comment"))).order_by(Event.id)))
    comment = None
    for event in events:  # a handful of rows: one rating (and perhaps a comment) per round
        if event.kind == "rated":
            comment = "" if event.data.get("rating") == "unsatisfied" else comment
        elif comment == "" and event.data.get("rating") == "unsatisfied":
            comment = event.data.get("text") or None
    return comment or None
