"""/stats for the command centre and leaders, /case with the full trace for oversight (read only)."""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update
from telegram.constants import ChatType

from assessment.period import parse_period
from handlers.common import core, lang
from handlers.context import Context
from storage.models import Deadline
from ui.texts import t


def may_read(update: Update, context) -> bool:
    chat, user, settings = update.effective_chat, update.effective_user, core(context).settings
    if chat.type == ChatType.PRIVATE:
        return bool(user) and user.id in reports(context).readers(settings)
    return chat.id == settings.command_chat


async def stats(update: Update, context: Context) -> None:
    lg, msg = lang(update, context), update.effective_message
    if not may_read(update, context):
        return await msg.reply_text(t("stats_not_allowed", lg))
    c = core(context)
    try:
        period = parse_period((context.args or ["week"])[0], c.now().astimezone(c.settings.tz).date())
    except ValueError:
        return await msg.reply_text(t("stats_usage", lg))
    await msg.reply_text(t("stats_working", lg, period=period.label))
    files = await reports(context).produce(context.application, period)
    await reports(context).post(context.bot, update.effective_chat.id, files)


def reports(context):
    """bot/reports/deliver (readers, produce, post), given through bot_data: handlers do not import bot/."""
    return context.bot_data.reports


async def oversight_case(update: Update, context: Context) -> None:
    """Any case by number, with every event of its trace, its calls and deadlines; no buttons."""
    lg, c, msg = lang(update, context), core(context), update.effective_message
    if len(context.args or []) != 1:
        return await msg.reply_text(t("case_usage", lg))
    case = await c.lifecycle.case_by_number(context.args[0])
    if case is None:
        return await msg.reply_text(t("case_not_found", lg))
    tz = c.settings.tz
    head = (f"{case.number} · {case.state} · {case.street or '指挥中心'} · {case.category} · "
            f"经办 {case.handler_name or '—'} · 评价 {case.rating or '—'} · 重办 {case.reopen_count}")
    lines = [head + (" · 疑难" if case.difficult else "")]
    for ev in await c.lifecycle.timeline(case.id):
        data = " ".join(f"{k}={v}" for k, v in ev.data.items())
        lines.append(f"{ev.at.astimezone(tz):%m-%d %H:%M} {ev.kind} [{ev.actor_role}] {data}".rstrip())
    for call in await c.disposal.calls_of(case.id):
        dept = c.settings.department_name(call.department)
        lines.append(f"呼叫 {call.id} {dept} {call.status} 响应 {call.answered_by_name or '—'} "
                     f"报到 {call.checked_in_by_name or '—'} 街镇评价 {call.street_rating or '—'} "
                     f"部门评价 {call.department_rating or '—'}")
    async with c.sessions() as session:
        deadlines = await session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id))
        for d in deadlines:
            lines.append(f"时限 {d.kind} 到期 {d.due_at.astimezone(tz):%m-%d %H:%M} {d.status} 升级 {d.level}")
    text = "\n".join(lines)
    await msg.reply_text(text[:4000], parse_mode=None)  # plain text (the default is HTML): nothing to escape
