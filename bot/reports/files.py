"""Build a report and write its files: synchronous on purpose, so the bot runs it on a worker thread
(asyncio.to_thread) and `python -m bot report` runs it directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine

from assessment.period import Period
from assessment.report import Context, Report, build
from bot.reports import charts, text, workbook
from storage.db import sync_url


@dataclass
class ReportFiles:
    report: Report | None  # None when made in another process (only the files and text come back)
    text: str
    charts: list[Path]
    workbook: Path
    label: str = ""


def context_from(cfg) -> Context:
    """The report's plain-data view of bot.config.Config."""
    def chain(unit) -> dict:
        return {role: (p.name, p.user_id) for role in ("deputy", "chief") if (p := getattr(unit, role))}
    return Context(tz=cfg.tz, cfg=cfg.assessment, dept_names={d.key: d.zh for d in cfg.departments},
                   category_names={c.key: c.zh for c in cfg.categories},
                   chains={**{s.name: chain(s) for s in cfg.streets}, **{d.zh: chain(d) for d in cfg.departments}})


def write_report(url: str, cfg, period: Period, now: datetime, out: Path) -> ReportFiles:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            report = build(conn, period, now, context_from(cfg))
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    pngs = charts.render_all(report, out)
    book = workbook.write(report, out / f"{period.label}_监督考核.xlsx")
    return ReportFiles(report, text.summary(report), pngs, book, period.label)


def write_report_files(url: str, cfg, period: Period, now: datetime, out: Path) -> ReportFiles:
    """write_report for a worker process: returns the text and the paths, not the (large) report."""
    files = write_report(url, cfg, period, now, out)
    files.report = None
    return files
