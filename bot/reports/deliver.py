"""Making a report without stalling the bot, and posting it: the text, the charts as an album, the
workbook as a document. Used by /stats and by the scheduled weekly / monthly / half-yearly reports."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from telegram import InputMediaPhoto
from telegram.error import TelegramError

from assessment.period import Period
from bot.reports.files import ReportFiles, write_report_files

log = logging.getLogger(__name__)
LIMIT = 4000  # Telegram's message limit is 4096 characters
NICE = 10  # the report process's priority below the bot's (and its helper's, which inherits it)


def readers(settings) -> set[int]:
    """Who may ask /stats privately and gets reports: the listed recipients, oversight, the duty leaders,
    and every unit's deputy and chief (cases.core.Settings)."""
    people = [*settings.oversight, *settings.duty_leaders, *(p for chain in settings.chains.values()
                                                             for p in chain.values())]
    return set(settings.assessment.recipients) | {p.user_id for p in people if p.user_id}


def out_dir(cfg, period: Period) -> Path:
    return Path(cfg.media.dir).parent / "reports" / period.label


async def produce(app, period: Period) -> ReportFiles:
    """The heavy part (SQL, tallies, charts, workbook) in a separate process: a thread would share the GIL
    with the event loop, and a citizen's answer waited up to 316 ms behind a large month's tallies
    (docs/BENCHMARKS.md). Spawned, not forked: the bot has threads (the database writer) a fork would copy."""
    cfg, core = app.bot_data["config"], app.bot_data["core"]
    args = (cfg.database.url, core.settings, period, core.now(), out_dir(cfg, period))
    # Niced: the report and its helper may take both cores for seconds; the bot's own work comes first.
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=os.nice,
                               initargs=(NICE,))
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, write_report_files, *args)
    finally:  # joined in a thread: the worker takes ~0.3 s to exit (it frees a large month's rows), and
        await asyncio.to_thread(pool.shutdown)  # `with` would wait for it on the event loop


async def post(bot, chat_id: int, files: ReportFiles) -> None:
    text = files.text if len(files.text) <= LIMIT else files.text[:LIMIT - 20] + "\n…（详见工作簿）"
    await bot.send_message(chat_id, text, parse_mode=None)  # plain text (the default is HTML): nothing to escape
    media = [InputMediaPhoto(p.read_bytes(), filename=p.name) for p in files.charts]
    await bot.send_media_group(chat_id, media)
    # An ASCII name for the upload: the aiohttp transport percent-encodes non-ASCII multipart file names.
    label = files.label
    await bot.send_document(chat_id, files.workbook.read_bytes(), filename=f"{label}_assessment.xlsx",
                            caption=f"{label} 监督考核工作簿（各表及案件清单）")


async def publish(app, period: Period) -> ReportFiles:
    """A scheduled report: the command centre group, then each reader privately (one failing chat, e.g. a
    leader who never started the bot, does not stop the others)."""
    settings = app.bot_data["core"].settings
    files = await produce(app, period)
    chats = [settings.command_chat] if settings.command_chat else []
    for chat in chats + sorted(readers(settings)):
        try:
            await post(app.bot, chat, files)
        except TelegramError as exc:
            log.warning("report %s not delivered to %s: %s", period.label, chat, exc)
    return files
