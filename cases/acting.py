"""Who may act on an accepted case (issue 11): its handler and the group's administrators. Anyone else in
the group may take the case over, explicitly: traced, and the previous handler is told. A question the
bot asked (a reason, a typed time) is answered by the person asked, or an administrator.

Functions that receive the core explicitly (its database, clock, settings, trace and outbox)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import Outcome
from cases.states import Action, allowed, may
from storage.models import Case, Extension
from storage.outbox import enqueue


def may_act(case: Case | None, user_id: int, admin: bool) -> bool:
    """Only an accepted case has a handler to respect; before that the group's members act (accept it)."""
    return case is None or not may(Action.TAKE_OVER, case.state) or case.handler_id in (None, user_id) or admin


async def take_over(core, case_id: int, user_id: int, user_name: str, chat_id: int) -> Outcome:
    now = core.now()

    def tx(session: Session) -> Outcome:
        case = session.get(Case, case_id)
        if case is None:
            return Outcome(False, "stale")
        if core.directory.owner_chat(case) != chat_id:
            return Outcome(False, "not_your_group", case)
        if not may(Action.TAKE_OVER, case.state):
            return Outcome(False, "wrong_state", case)
        if case.handler_id == user_id:
            return Outcome(False, "already_handler", case)
        previous, previous_name = case.handler_id, case.handler_name or ""
        won = session.execute(update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.TAKE_OVER)),
                                                 Case.handler_id == previous).values(
            handler_id=user_id, handler_name=user_name[:128], updated_at=now)).rowcount
        if not won:  # someone else took it over (or it moved on) at the same moment
            return Outcome(False, "stale", case)
        core.trace(session, case_id, now, "taken_over", "handler", user_id, chat_id, previous=previous,
                   previous_name=previous_name, by=user_name[:128])
        enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
        args = {"number": case.number, "by": user_name[:128], "name": previous_name}
        if previous:
            args["mention_id"] = previous  # the notice mentions them: Telegram tells them
        enqueue(session, now, chat_id, "notice", case_id, key="taken_over_notice", lang=core.settings.group_lang,
                args=args)
        return Outcome(True, "taken_over", case)
    outcome = await core.db.write(tx)
    if outcome.ok:
        core.outbox_written()
    return outcome


async def extension_asker(core, chat_id: int, prompt_message: int) -> int | None:
    """Who asked for the extension whose reason this message prompts for (None: no such prompt)."""
    async with core.sessions() as session:
        return await session.scalar(select(Extension.requested_by).where(
            Extension.prompt_chat == chat_id, Extension.prompt_message == prompt_message))
