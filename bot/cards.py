"""Turning an outbox row into Bot API calls, rendered from the case's current state.

A row may need several calls (photos, the card, the place). Each is a named step; the delivery
worker records finished steps so a retry after a failure resumes instead of repeating them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.error import BadRequest

from bot.delivery import Step
from cases.rounds import reopen_comment
from cases.states import LIVE_CALLS, Action, CallAction, CaseState, may
from storage.media import original_path, stripped_copy
from storage.models import Card, Case, Deadline, Extension, Photo
from storage.outbox import OutboxKind
from storage.placed import CardPlaced, Sent, StaffFileIds
from ui import buttons
from ui.keys import key
from ui.limits import CAPTION, TEXT, fit_fields, fit_html
from ui.names import department_name, street_name, unit_name
from ui.summary import summary_body
from ui.texts import BUTTONS, CALL_STATES, DEADLINE_WORDS, LIMITS, RATING_NAMES, STATES, mention, pick, t


class Renderer:
    def __init__(self, core, bot, cfg):
        self.core, self.bot, self.cfg = core, bot, cfg  # cfg: where the media are; the rest is core.settings
        self.renderers = self._registry()

    @property
    def lang(self) -> str:
        """Groups read the district's language."""
        return self.core.settings.group_lang

    # ---- text pieces -------------------------------------------------------------------------
    def local(self, when: datetime) -> str:
        return when.astimezone(self.core.settings.tz).strftime("%m-%d %H:%M")

    def category_name(self, key: str, lang: str) -> str:
        cat = self.core.settings.categories.get(key)
        return cat.name(lang) if cat else key

    def deadlines_text(self, case: Case, lang: str) -> str:
        rows = [f"⏱ {pick(LIMITS[d.kind], lang)}: {self.local(d.due_at)}"  # the case's own, not its calls'
                for d in sorted(case.deadlines, key=lambda d: d.due_at)
                if d.status == "open" and d.kind in LIMITS and d.call_id is None]
        return "\n".join(rows)

    @staticmethod
    def place_raw(case: Case) -> str:
        parts = [case.place_title, case.place_address]
        return " · ".join(p for p in parts if p) or f"{case.lat:.5f}, {case.lon:.5f}"

    def card_text(self, case: Case, kind: str, calls=None, returned_by: str | None = None,
                  round_: int | None = None, reopen_comment: str | None = None, limit: int = CAPTION) -> str:
        """returned_by: on a routing card, the street that handed the case back (else it lies outside).
        round_: the round the card was posted in; an earlier one than the case's gets its last word.
        What users typed is shortened with "…" when the card would pass `limit` (full text in /case)."""
        round_ = case.reopen_count if round_ is None else round_
        if round_ < case.reopen_count:
            return self.old_round_text(case, kind, round_, limit)
        fields = {"note": case.description, "resolution": case.resolution_note, "place": self.place_raw(case),
                  "handler": case.handler_name, "on_site_by": case.on_site_by, "comment": reopen_comment}
        return fit_fields(lambda f: self._card_text(case, kind, calls, returned_by, f, round_), fields, limit)

    def _card_text(self, case: Case, kind: str, calls, returned_by: str | None, f: dict[str, str],
                   round_: int) -> str:
        lang = self.lang
        if kind == "street" and round_:
            head = t("card_title_reopened", lang, number=case.number, round=round_ + 1)
        elif kind == "street":
            head = t("card_title", lang, number=case.number)
        elif case.place_source == "address" and case.state == CaseState.UNROUTED:
            head = t("routing_title_address", lang, number=case.number)
        elif returned_by:
            head = t("routing_title_returned", lang, number=case.number, street=returned_by)
        else:
            head = t("routing_title", lang, number=case.number)
        lines = [f"<b>{head}</b>",
                 f"{pick(('类别', 'Category'), lang)}: {escape(self.category_name(case.category, lang))}",
                 f"{pick(('街镇', 'Street'), lang)}: {escape(case.street or '—')}",
                 f"{pick(('位置', 'Place'), lang)}: {escape(f['place'])}",
                 f"{pick(('报告人', 'Reporter'), lang)}: {self.reporter_text(case, lang)}",
                 f"{pick(('时间', 'Reported'), lang)}: {self.local(case.created_at)}",
                 f"{pick(('状态', 'State'), lang)}: {pick(STATES.get(case.state, (case.state, case.state)), lang)}"]
        if case.description:
            lines.insert(2, f"{pick(('说明', 'Note'), lang)}: {escape(f['note'])}")
        if case.grid:
            lines.insert(-4, f"{pick(('网格', 'Grid cell'), lang)}: {escape(case.grid)}")
        if kind == "street" and round_:  # why it came back
            lines.insert(1, t("card_reopened_comment", lang, comment=f["comment"]) if f["comment"]
                         else t("card_reopened", lang))
        deadlines = self.deadlines_text(case, lang)
        if deadlines:
            lines.append(deadlines)
        if case.handler_name:
            lines.append(t("card_accepted", lang, name=f["handler"], time=self.local(case.accepted_at)))
        if case.on_site_at:
            lines.append(t("card_on_site", lang, name=f["on_site_by"], time=self.local(case.on_site_at),
                           m=round(case.on_site_m or 0)))
        for call in calls or []:
            state = pick(CALL_STATES[call.status], lang)
            lines.append(f"📣 {escape(self.core.settings.department_name(call.department))}: {state}")
        if case.resolved_at and case.resolution_note:
            lines.append(t("card_resolved", lang, time=self.local(case.resolved_at), note=f["resolution"]))
        if case.state == CaseState.CLOSED:
            lines.append(t("card_closed", lang, rating=pick(RATING_NAMES.get(case.rating or "none"), lang)))
        if case.state == CaseState.WITHDRAWN:
            lines.append(t("card_withdrawn", lang))
        if kind == "routing" and case.street:
            lines.append(t("card_routed", lang, street=case.street))
        return "\n".join(lines)

    def old_round_text(self, case: Case, kind: str, round_: int, limit: int = CAPTION) -> str:
        """A card of a finished round: the citizen was not satisfied, a newer card carries on."""
        lang = self.lang
        head = t("card_title_reopened", lang, number=case.number, round=round_ + 1) if round_ else \
            t("card_title", lang, number=case.number)
        return fit_fields(lambda f: "\n".join([
            f"<b>{head}</b>", f"{pick(('类别', 'Category'), lang)}: {escape(self.category_name(case.category, lang))}",
            f"{pick(('位置', 'Place'), lang)}: {escape(f['place'])}", t("card_superseded", lang, round=round_ + 2)]),
            {"place": self.place_raw(case)}, limit)

    @staticmethod
    def reporter_text(case: Case, lang: str) -> str:
        """Citizens stay an anonymous tag; a grid worker's report says whose grid it is credited to."""
        if case.reported_by_grid:
            return f"{case.reporter_tag} · {pick(('网格员', 'grid worker'), lang)} {escape(case.reported_by_grid)}"
        if case.channel:  # filed through the API by another system: its name (来源：12345热线)
            return f"{pick(('来源', 'From'), lang)}：{escape(case.reporter_tag)}"
        return case.reporter_tag

    def card_keyboard(self, case: Case, kind: str) -> InlineKeyboardMarkup | None:
        lang = self.lang
        if kind == "street" and may(Action.ACCEPT, case.state):
            return InlineKeyboardMarkup([[InlineKeyboardButton(
                f"✋ {pick(BUTTONS['accept'], lang)}", callback_data=buttons.ACCEPT.data(case.id))]])
        if kind == "street" and may(Action.RESOLVE, case.state):
            return InlineKeyboardMarkup([
                [key("resolve", lang, buttons.RESOLVE_HOW, case.id, case.reopen_count),
                 key("call", lang, buttons.CALL, case.id, 0, 0)],
                [key("extend", lang, buttons.EXTEND_CASE, case.id), key("difficult", lang, buttons.DIFFICULT, case.id),
                 key("not_ours", lang, buttons.NOT_OURS, case.id)],
                [InlineKeyboardButton(pick(BUTTONS["on_site"], lang),  # the street's own check-in, privately
                                      url=f"https://t.me/{self.bot.username}?start=cs{case.id}")]])
        if kind == "routing" and may(Action.ROUTE, case.state):
            names = list(self.core.settings.street_chats)
            tiles = [InlineKeyboardButton(n, callback_data=buttons.ROUTE.data(case.id, i)) for i, n in enumerate(names)]
            return InlineKeyboardMarkup([tiles[i:i + 2] for i in range(0, len(tiles), 2)])
        return None

    # ---- photos ------------------------------------------------------------------------------
    def photo_input(self, photo: Photo):
        """What to send for a photo: its Telegram id, or a stripped copy for files that had EXIF."""
        if not photo.needs_strip:
            return photo.file_id
        if photo.staff_file_id:
            return photo.staff_file_id
        return stripped_copy(original_path(self.cfg.media.dir, photo.sha256)).read_bytes()

    @staticmethod
    def staff_ids(photos: list[Photo], messages: list[Message]) -> list[StaffFileIds]:
        """The file ids Telegram gave the stripped copies just sent, to send them by id next time."""
        learned = {p.id: m.photo[-1].file_id for p, m in zip(photos, messages, strict=False)
                   if p.needs_strip and not p.staff_file_id and m.photo}
        return [StaffFileIds(learned)] if learned else []

    # ---- steps per outbox kind -----------------------------------------------------------------
    async def steps(self, row) -> list[Step]:
        case = await self.core.lifecycle.load_case(row.case_id) if row.case_id else None
        return await self.renderers[OutboxKind(row.kind)](row, case)

    def _registry(self) -> dict[OutboxKind, Callable[[object, Case | None], Awaitable[list[Step]]]]:
        """One renderer per outbox kind; a kind without one stops the bot at start (not at delivery)."""
        renderers = {
            OutboxKind.STREET_CARD: self._case_card, OutboxKind.ROUTING_CARD: self._case_card,
            OutboxKind.REFRESH_CARD: self._refresh_card, OutboxKind.CALL_CARD: self._call_card,
            OutboxKind.REFRESH_CALL: self._refresh_call, OutboxKind.DECLINED_NOTICE: self._declined_notice,
            OutboxKind.EXTENSION_REQUEST: self._extension_request, OutboxKind.DIFFICULT_CARD: self._difficult,
            OutboxKind.RATING_REQUEST: self._rating_request, OutboxKind.RATE_DEPARTMENT: self._mutual,
            OutboxKind.RATE_CALL: self._mutual, OutboxKind.VERIFY_CARD: self._verify_card,
            OutboxKind.RECEIPT: self._receipt, OutboxKind.NOTICE: self._notice,
            OutboxKind.DAILY_SUMMARY: self._daily_summary}
        if missing := set(OutboxKind) - set(renderers) - {OutboxKind.CALLBACK}:  # callbacks: api/callbacks.py
            raise RuntimeError(f"outbox kinds without a renderer: {', '.join(sorted(missing))}")
        return renderers

    async def _case_card(self, row, case: Case) -> list[Step]:
        routing = row.kind == OutboxKind.ROUTING_CARD
        calls = await self.core.disposal.calls_of(case.id)
        returned_by = await self.core.lifecycle.returned_by(case.id) if routing else None
        comment = await reopen_comment(self.core.sessions, case.id) if case.reopen_count else None
        return self.card_steps(row.chat_id, case, "routing" if routing else "street", calls, returned_by, comment)

    async def _refresh_card(self, row, case: Case) -> list[Step]:
        return [Step("edit", lambda: self.refresh(case, row.payload["card"], row.payload.get("message_id"),
                                                  row.payload.get("old_rounds", False)))]

    async def _call_card(self, row, case: Case) -> list[Step]:
        call = await self.core.disposal.load_call(row.payload["call_id"])
        return self.call_steps(row.chat_id, case, call, tracking=row.payload.get("tracking", False))

    async def _refresh_call(self, row, case: Case) -> list[Step]:
        call = await self.core.disposal.load_call(row.payload["call_id"])
        return [Step("edit", lambda: self.refresh_call(case, call, row.payload.get("message_id")))]

    async def _declined_notice(self, row, case: Case) -> list[Step]:
        call = await self.core.disposal.load_call(row.payload["call_id"])
        department = self.core.settings.department_name(call.department)
        text = t("s_declined", self.lang, number=case.number, department=department,
                 reason=call.decline_reason or "—")
        keyboard = InlineKeyboardMarkup([[key("dispute", self.lang, buttons.DISPUTE, call.id)]])
        return [Step("text", lambda: self.send_text(row.chat_id, text, keyboard))]

    async def _extension_request(self, row, case: Case) -> list[Step]:
        return [Step("text", lambda: self.extension_request(row.chat_id, case, row.payload["extension_id"],
                                                            row.payload.get("round", case.reopen_count)))]

    async def _difficult(self, row, case: Case) -> list[Step]:
        return [Step("text", lambda: self.difficult_card(row.chat_id, case, row.payload["reason"]))]

    async def _rating_request(self, row, case: Case) -> list[Step]:
        return self.rating_steps(row.chat_id, case, row.payload["lang"], row.payload.get("round", case.reopen_count))

    async def _mutual(self, row, case: Case) -> list[Step]:
        call = await self.core.disposal.load_call(row.payload["call_id"])
        return [Step("text", lambda: self.mutual_prompt(row.chat_id, case, call, row.kind,
                                                        row.payload.get("round", case.reopen_count)))]

    async def _verify_card(self, row, case: Case) -> list[Step]:  # 核查结案: the verifiers' card
        from bot.verify_card import verify_steps
        return verify_steps(self, row.chat_id, case)

    async def _receipt(self, row, case: Case) -> list[Step]:
        lang = row.payload["lang"]
        withdraw = InlineKeyboardMarkup([[InlineKeyboardButton(
            buttons.WITHDRAW.caption(lang), callback_data=buttons.WITHDRAW.data(case.id))]]) \
            if may(Action.WITHDRAW, case.state) else None
        return [Step("text", lambda: self.send_text(row.chat_id, self.receipt_text(case, lang), withdraw))]

    async def _daily_summary(self, row, _case: None) -> list[Step]:
        lang, data = row.payload["lang"], row.payload["summary"]
        text = t("daily_summary", lang, day=data["day"], body=summary_body(data, self.core.settings, lang))
        return [Step("text", lambda: self.send_text(row.chat_id, text))]

    def in_words(self, args: dict, lang: str) -> dict:
        """The core's data in the reader's words: a deadline's kind, a unit by kind and key, a time in the
        district's zone. Rows written before the core gave data (a unit's Chinese name, a time written
        out) stay as they are."""
        if "what" in args:  # a deadline's kind, in words
            args["what"] = pick(DEADLINE_WORDS.get(args["what"], (args["what"], args["what"])), lang)
        if "unit_kind" in args:
            args["unit"] = unit_name(self.core.settings, args.pop("unit_kind"), args["unit"], lang)
            if "name" in args and args["name"] is None:  # the unit itself is called on
                args["name"] = args["unit"]
        if "department" in args and args["department"] in self.core.settings.departments:
            args["department"] = department_name(self.core.settings, args["department"], lang)
        if isinstance(args.get("due"), str) and "T" in args["due"]:
            args["due"] = self.local(datetime.fromisoformat(args["due"]))
        return args

    async def _notice(self, row, case: Case | None) -> list[Step]:
        lang, args = row.payload["lang"], self.in_words(dict(row.payload.get("args", {})), row.payload["lang"])
        if "rating" in args:  # a citizen's rating, in words
            args["rating"] = pick(RATING_NAMES.get(args["rating"], (args["rating"], args["rating"])), lang)
        if "mention_id" in args:
            args["name"] = mention(args.pop("mention_id"), args["name"])
        if "street" in args:  # English readers read the street's English name
            args["street"] = street_name(self.core.settings, args["street"], lang)
        text = t(row.payload["key"], lang, **args)
        return [Step("text", lambda: self.send_text(row.chat_id, text))]

    def card_steps(self, chat_id: int, case: Case, kind: str, calls=(), returned_by: str | None = None,
                   reopen_comment: str | None = None) -> list[Step]:
        photos = [p for p in case.photos if p.stage == "before"]
        keyboard = self.card_keyboard(case, kind)
        text = self.card_text(case, kind, calls, returned_by, reopen_comment=reopen_comment,
                              limit=CAPTION if len(photos) == 1 else TEXT)
        steps = []
        if not photos:  # a case filed through the API without a photo
            async def card():
                msg = await self.bot.send_message(chat_id, text, reply_markup=keyboard)
                return Sent([msg.message_id], [CardPlaced(case.id, kind, chat_id, msg.message_id, False)])
        elif len(photos) == 1:
            async def card():
                msg = await self.bot.send_photo(chat_id, self.photo_input(photos[0]), caption=text,
                                                reply_markup=keyboard)
                return Sent([msg.message_id], [*self.staff_ids(photos, [msg]),
                                               CardPlaced(case.id, kind, chat_id, msg.message_id, True,
                                                          case.reopen_count)])
        else:
            async def album():
                media = [InputMediaPhoto(self.photo_input(p)) for p in photos]
                msgs = await self.bot.send_media_group(chat_id, media)
                return Sent([m.message_id for m in msgs], self.staff_ids(photos, list(msgs)))
            steps.append(Step("album", album))

            async def card():
                msg = await self.bot.send_message(chat_id, text, reply_markup=keyboard)
                return Sent([msg.message_id], [CardPlaced(case.id, kind, chat_id, msg.message_id, False,
                                                          case.reopen_count)])
        steps.append(Step("card", card))

        async def place():
            title = case.street or case.place_title or pick(("问题位置", "Reported place"), self.lang)
            address = case.place_address or case.place_title or f"{case.lat:.5f}, {case.lon:.5f}"
            msg = await self.bot.send_venue(chat_id, case.lat, case.lon, title=title[:128], address=address[:256])
            return [msg.message_id]
        if case.place_source != "address":  # an address with no point yet: the card says it, no map
            steps.append(Step("place", place))
        return steps

    async def refresh(self, case: Case, kind: str, message_id: int | None = None,
                      old_rounds: bool = False) -> list[int]:
        """Edit every copy of a posted card to show the current state; its buttons follow the state.
        Cards of finished rounds are edited once, to their last word (old_rounds), or when one of
        them is found again (message_id: that message only)."""
        query = select(Card).where(Card.case_id == case.id, Card.kind == kind)
        if message_id is not None:
            query = query.where(Card.message_id == message_id)
        elif not old_rounds:
            query = query.where(Card.round == case.reopen_count)
        async with self.core.sessions() as session:
            cards = (await session.scalars(query.order_by(Card.id))).all()
        returned_by = await self.core.lifecycle.returned_by(case.id) if kind == "routing" else None
        comment = await reopen_comment(self.core.sessions, case.id) if kind == "street" and case.reopen_count else None
        calls = await self.core.disposal.calls_of(case.id)
        owner = self.core.directory.owner_chat(case)
        for card in cards:
            limit = CAPTION if card.caption else TEXT
            if kind == "street" and card.chat_id != owner:  # a group that handed the case back
                await self.edit(card, self.moved_text(case, limit), None)
                continue
            current = card.round >= case.reopen_count
            text = self.card_text(case, kind, calls, returned_by, card.round, comment, limit)
            await self.edit(card, text, self.card_keyboard(case, kind) if current else None)
        return [c.message_id for c in cards]

    def moved_text(self, case: Case, limit: int) -> str:
        """The card left in a group that no longer has the case: where it went, and no buttons."""
        lang = self.lang
        where = case.grid or case.street
        moved = t("card_withdrawn", lang) if case.state == CaseState.WITHDRAWN else \
            t("card_moved", lang, street=where) if where else t("card_moved_command", lang)

        def render(f: dict[str, str]) -> str:
            lines = [f"<b>{t('card_title', lang, number=case.number)}</b>",
                     f"{pick(('类别', 'Category'), lang)}: {escape(self.category_name(case.category, lang))}",
                     f"{pick(('位置', 'Place'), lang)}: {escape(f['place'])}"]
            if f["note"]:
                lines.insert(2, f"{pick(('说明', 'Note'), lang)}: {escape(f['note'])}")
            return "\n".join([*lines, moved])
        return fit_fields(render, {"note": case.description, "place": self.place_raw(case)}, limit)

    async def edit(self, card: Card, text: str, keyboard) -> None:
        """Edit a card; one that already shows this state (an edit repeated after a retry) is fine."""
        try:
            if card.caption:
                await self.bot.edit_message_caption(card.chat_id, card.message_id, caption=text, reply_markup=keyboard)
            else:
                await self.bot.edit_message_text(text, card.chat_id, card.message_id,
                                                 reply_markup=keyboard)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    async def send_text(self, chat_id: int, text: str, keyboard=None) -> list[int]:
        """A notice: cut to Telegram's 4,096 characters with "…" if what users typed made it longer."""
        msg = await self.bot.send_message(chat_id, fit_html(text, TEXT), reply_markup=keyboard)
        return [msg.message_id]

    def receipt_text(self, case: Case, lang: str) -> str:
        routing = t("routed_to", lang, street=street_name(self.core.settings, case.street, lang)) if case.street \
            else t("routed_command", lang)
        # deadlines_text holds no user input, so escaping it (as t() does) changes nothing.
        return t("receipt", lang, number=case.number, routing=routing, deadlines=self.deadlines_text(case, lang))

    # ---- calls -------------------------------------------------------------------------------------
    def call_text(self, case: Case, call, tracking: bool = False) -> str:
        """A call card's caption; what users typed is shortened with "…" to fit (full text in /case)."""
        fields = {"note": case.description, "place": self.place_raw(case), "caller": call.called_by_name,
                  "answerer": call.answered_by_name, "checker": call.checked_in_by_name}
        return fit_fields(lambda f: self._call_text(case, call, tracking, f), fields, CAPTION)

    def _call_text(self, case: Case, call, tracking: bool, f: dict[str, str]) -> str:
        lang = self.lang
        title = t("tracking_title", lang, number=case.number,
                  department=self.core.settings.department_name(call.department)) \
            if tracking else t("call_title", lang, number=case.number)
        lines = [f"<b>{title}</b>",
                 f"{pick(('呼叫方', 'Called by'), lang)}: {escape(case.street or '')} · {escape(f['caller'])}",
                 f"{pick(('类别', 'Category'), lang)}: {escape(self.category_name(case.category, lang))}",
                 f"{pick(('位置', 'Place'), lang)}: {escape(f['place'])}",
                 f"{pick(('到场时限', 'Check in by'), lang)}: {self.local(call.checkin_due)}",
                 *([f"{pick(('到场地点', 'Meet at'), lang)}: {call.lat:.5f}, {call.lon:.5f}"]
                   if (call.lat, call.lon) != (case.lat, case.lon) else []),
                 f"{pick(('状态', 'State'), lang)}: {pick(CALL_STATES[call.status], lang)}"]
        if case.description:
            lines.insert(3, f"{pick(('说明', 'Note'), lang)}: {escape(f['note'])}")
        if call.answered_by_name:
            lines.append(f"{pick(('响应', 'Answered'), lang)}: {escape(f['answerer'])} "
                         f"{self.local(call.answered_at)}")
        if call.checked_in_by_name:
            lines.append(f"{pick(('报到', 'Checked in'), lang)}: {escape(f['checker'])} "
                         f"{self.local(call.checked_in_at)} ({call.checkin_distance_m:.0f} m)")
        if not tracking:
            lines.append(pick(("回复本卡片可留言给街镇。", "Reply to this card to send a note to the street."), lang))
        return "\n".join(lines)

    def call_keyboard(self, call) -> InlineKeyboardMarkup | None:
        lang = self.lang
        if call.status not in LIVE_CALLS:  # declined or on site: nothing left to tap
            return None
        row = []
        if may(CallAction.ANSWER, call.status):
            row.append(key("answer", lang, buttons.ANSWER, call.id))
        row.append(InlineKeyboardButton(pick(BUTTONS["checkin"], lang),
                                        url=f"https://t.me/{self.bot.username}?start=ci{call.id}"))
        more = [key("extend", lang, buttons.EXTEND_CALL, call.id),
                key("decline", lang, buttons.DECLINE, call.id)]
        return InlineKeyboardMarkup([row, more])

    def call_steps(self, chat_id: int, case: Case, call, tracking: bool = False) -> list[Step]:
        """The call card; a tracking department (for a city unit) gets the same card without buttons."""
        photo = next(p for p in case.photos if p.stage == "before")

        async def card():
            keyboard = None if tracking else self.call_keyboard(call)
            msg = await self.bot.send_photo(chat_id, self.photo_input(photo),
                                            caption=self.call_text(case, call, tracking), reply_markup=keyboard)
            kind = f"{'track' if tracking else 'call'}{call.id}"
            return Sent([msg.message_id], [CardPlaced(case.id, kind, chat_id, msg.message_id, True)])

        async def place():  # where to meet: the case's place unless the handler set another
            same = (call.lat, call.lon) == (case.lat, case.lon)
            address = (case.place_address if same else None) or f"{call.lat:.5f}, {call.lon:.5f}"
            msg = await self.bot.send_venue(chat_id, call.lat, call.lon, title=(case.street or "")[:128] or "—",
                                            address=address[:256])
            return [msg.message_id]
        return [Step("card", card), Step("place", place)]

    async def refresh_call(self, case: Case, call, message_id: int | None = None) -> list[int]:
        """Edit the call's cards (every copy; message_id: that one only, a copy just found)."""
        query = select(Card).where(Card.kind.in_((f"call{call.id}", f"track{call.id}")))
        if message_id is not None:
            query = query.where(Card.message_id == message_id)
        async with self.core.sessions() as session:
            cards = (await session.scalars(query)).all()
        for card in cards:
            tracking = card.kind.startswith("track")
            await self.edit(card, self.call_text(case, call, tracking), None if tracking else self.call_keyboard(call))
        if message_id is None:  # the street's card lists every call's state too
            await self.refresh(case, "street")
        return [c.message_id for c in cards]

    # ---- ratings -----------------------------------------------------------------------------------
    def rating_steps(self, chat_id: int, case: Case, lang: str, round_: int = 0) -> list[Step]:
        before = [p for p in case.photos if p.stage == "before"][:1]
        after = [p for p in case.photos if p.stage == "after"][-1:]

        async def photos():
            media = [InputMediaPhoto(self.photo_input(p)) for p in before + after]
            msgs = await self.bot.send_media_group(chat_id, media)
            return [m.message_id for m in msgs]

        async def ask():
            keys = ("satisfied", "mostly", "unsatisfied")
            keyboard = InlineKeyboardMarkup([[key(k, lang, buttons.RATE, case.id, k, round_)
                                                              for k in keys]])
            text = t("n_resolved", lang, number=case.number) + "\n" + escape(case.resolution_note or "")
            msg = await self.bot.send_message(chat_id, fit_html(text, TEXT), reply_markup=keyboard)
            return [msg.message_id]
        return [Step("photos", photos), Step("ask", ask)]

    async def mutual_prompt(self, chat_id: int, case: Case, call, kind: str, round_: int = 0) -> list[int]:
        lang = self.lang
        if kind == "rate_department":
            department = self.core.settings.department_name(call.department)
            text = t("rate_dept", lang, department=department, number=case.number)
            options = [(v, buttons.RATE_DEPARTMENT.data(call.id, v, round_)) for v in ("good", "fair", "poor")]
        else:
            text = t("rate_call", lang, number=case.number)
            options = [(v, buttons.RATE_CALL.data(call.id, v, round_)) for v in ("accurate", "inaccurate")]
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(pick(BUTTONS[k], lang), callback_data=data)
                                          for k, data in options]])
        return await self.send_text(chat_id, text, keyboard)

    # ---- extensions and difficult cases -------------------------------------------------------------
    async def extension_request(self, chat_id: int, case: Case, extension_id: int, round_: int = 0) -> list[int]:
        async with self.core.sessions() as session:
            ext = await session.get(Extension, extension_id)
            deadline = await session.get(Deadline, ext.deadline_id)
        lang = self.lang
        what = pick(DEADLINE_WORDS.get(deadline.kind, (deadline.kind, deadline.kind)), lang)
        text = t("ext_request", lang, number=case.number, who=ext.requested_by_name, what=what,
                 old=self.local(deadline.due_at), new=self.local(ext.new_due), reason=ext.reason or "")
        keyboard = InlineKeyboardMarkup([[
            key("approve", lang, buttons.APPROVE, ext.id, round_),
            key("refuse", lang, buttons.REFUSE, ext.id, round_)]])
        return await self.send_text(chat_id, text, keyboard)

    def reason_text(self, reason: dict | str, lang: str) -> str:
        """Why a case is difficult, from the core's {"why": …}; a reason written out (older rows) as it is."""
        if not isinstance(reason, dict):
            return reason
        args = self.in_words(dict(reason), lang)
        return t(f"why_{args.pop('why')}", lang, **args)

    async def difficult_card(self, chat_id: int, case: Case, reason: dict | str) -> list[int]:
        lang = self.lang
        text = t("difficult_card", lang, number=case.number, reason=self.reason_text(reason, lang),
                 street=case.street or "—",
                 category=self.category_name(case.category, lang), place=f"{case.lat:.5f}, {case.lon:.5f}")
        units = [(name, buttons.ASSIGN.data(case.id, ("s", i)))
                 for i, name in enumerate(self.core.settings.street_chats)]
        units += [(zh, buttons.ASSIGN.data(case.id, ("d", i)))
                  for i, zh in enumerate(d.zh for d in self.core.settings.departments.values())]
        tiles = [InlineKeyboardButton(name, callback_data=data) for name, data in units]
        keyboard = InlineKeyboardMarkup([tiles[i:i + 3] for i in range(0, len(tiles), 3)])
        return await self.send_text(chat_id, text, keyboard)
