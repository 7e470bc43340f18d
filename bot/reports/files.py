"""Build a report and write its files: synchronous on purpose, so the bot runs it in a worker process
(bot/reports/deliver.py) and `python -m bot report` runs it directly.

Two processes share the work (docs/BENCHMARKS.md): a helper reads and tallies the period before while this
one reads the period itself, then draws the charts while this one writes the workbook. A 1M-case month
took 8.7 s in one process on a quiet machine, most of it Python touching 820,000 rows once."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine

from assessment import trace
from assessment.period import Period
from assessment.report import Context, Report, before_at, build
from bot.reports import charts, text, workbook
from cases.core import Settings
from storage.db import sync_url


@dataclass
class ReportFiles:
    report: Report | None  # None when made in another process (only the files and text come back)
    text: str
    charts: list[Path]
    workbook: Path
    label: str = ""


HELPER_FROM = 20_000


def context_from(settings: Settings) -> Context:
    """The report's plain-data view of the district's settings (cases.core.Settings)."""
    return Context(tz=settings.tz, cfg=settings.assessment,
                   dept_names={key: d.zh for key, d in settings.departments.items()},
                   category_names={key: c.zh for key, c in settings.categories.items()}, chains=settings.chains)


def _start():
    """Forked when this process has one thread (the bot's report process, `python -m bot report`): the
    helper starts at once with nothing to import. Spawned otherwise: a fork copies other threads' locks."""
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def shared(url: str) -> bool:
    """Whether another process sees this database (an in-memory SQLite is this process's own)."""
    return ":memory:" not in url and not url.rstrip("/").endswith(("sqlite:", "sqlite+aiosqlite:"))


def worth_a_helper(url: str, period: Period, ctx: Context, from_cases: int) -> bool:
    """A helper pays when the month before is large (its start costs 0.1 s forked, 1–2 s spawned); Gulou's
    real month (~1,700 cases) is tallied here in a fraction of that."""
    if not shared(url):
        return False
    start, end = period.previous().bounds(ctx.tz)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            n = trace.cases_between(conn, start, end)
    finally:
        engine.dispose()
    return n >= from_cases


def write_report(url: str, settings: Settings, period: Period, now: datetime, out: Path,
                 times: dict[str, float] | None = None, helper_from: int = HELPER_FROM) -> ReportFiles:
    """times, when given, gets the wall time of each part (read + tally, files) for the benchmark.
    helper_from: the cases in the month before from which a helper process takes it and the charts."""
    ctx, times = context_from(settings), times if times is not None else {}
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with ExitStack() as stack:
        helper = None
        if worth_a_helper(url, period, ctx, helper_from):  # before this process opens its connection
            helper = stack.enter_context(ProcessPoolExecutor(1, mp_context=_start()))
        previous = helper.submit(before_at, sync_url(url), period, now, ctx).result if helper else None
        engine = create_engine(sync_url(url))
        try:
            with engine.connect() as conn:
                report = build(conn, period, now, ctx, previous)
        finally:
            engine.dispose()
        times["read + tally"] = time.perf_counter() - t
        if helper:  # the charts read the tallies only: the helper gets them without the period's rows
            light = replace(report, current=replace(report.current, trace=None, persons=[], calls=[]))
            pngs = helper.submit(charts.render_all, light, out)
        book = workbook.write(report, out / f"{period.label}_监督考核.xlsx")
        times["workbook"] = time.perf_counter() - t - times["read + tally"]
        pngs = pngs.result() if helper else charts.render_all(report, out)
    times["files"] = time.perf_counter() - t - times["read + tally"]
    return ReportFiles(report, text.summary(report), pngs, book, period.label)


def write_report_files(url: str, settings: Settings, period: Period, now: datetime, out: Path) -> ReportFiles:
    """write_report for a worker process: returns the text and the paths, not the (large) report."""
    files = write_report(url, settings, period, now, out)
    files.report = None
    return files
