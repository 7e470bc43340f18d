"""The duty rota (两级巡查轮值): dated district and street leaders; gaps warned; the old flat list still works."""

from datetime import date
from types import SimpleNamespace

import pytest

from bot.app import settings_from
from bot.config import Config, DutyCfg, PersonCfg, RotaCfg
from cases.bootstrap import rota_from, start_up_warnings
from cases.rota import Duty, Rota
from demo.district import District
from ui.summary import duty_lines

STREET = "温泉街道"


def test_a_duty_covers_its_dates_or_its_iso_weeks():
    span = Duty("A", 1, date(2026, 11, 23), date(2026, 11, 29))
    week = Duty("B", 2, weeks=frozenset({(2026, 49)}))
    assert span.covers(date(2026, 11, 29)) and not span.covers(date(2026, 11, 30))
    assert week.covers(date(2026, 11, 30)) and week.covers(date(2026, 12, 6)) and not week.covers(date(2026, 12, 7))
    rota = Rota([span, week], {STREET: [Duty("C", 3, date(2026, 11, 23), date(2026, 11, 24))]})
    assert rota.on_duty(date(2026, 11, 24), STREET) == [("A", 1), ("C", 3)]
    assert rota.on_duty(date(2026, 12, 1), STREET) == [("B", 2)]
    assert (date(2026, 11, 25), STREET) in rota.gaps(date(2026, 11, 23), 14)
    assert (date(2026, 12, 7), None) in rota.gaps(date(2026, 11, 23), 15)
    settings = SimpleNamespace(street_names_en={STREET: "Wenquan"})
    lines = duty_lines(rota.tomorrow(date(2026, 11, 23)), settings, "zh")
    assert lines[0] == "明日值班 2026-11-24：区级 A" and f"  {STREET}：C" in lines
    assert not [x for x in lines if "⚠️" in x]
    assert "⚠️ 2026-11-25 温泉街道 无人值班" in duty_lines(rota.tomorrow(date(2026, 11, 24)), settings, "zh")
    assert duty_lines(rota.tomorrow(date(2026, 11, 24)), settings, "en") == [
        "On duty 2026-11-25: district A", "  Wenquan: nobody", "⚠️ 2026-11-25 Wenquan: nobody on duty"]


def test_config_reads_dates_weeks_and_the_old_list(cfg):
    raw = cfg.model_dump(by_alias=True)
    raw["escalation"]["rota"] = {"district": [{"name": "区领导 A", "user_id": 7201, "from": "2026-11-23",
                                               "to": "2026-11-29"},
                                              {"name": "区领导 B", "user_id": 7202, "weeks": ["2026-W49"]}],
                                 "streets": {STREET: [{"name": "镇领导 C", "user_id": 7203, "from": "2026-11-23",
                                                       "to": "2026-12-06"}]}}
    parsed = Config.model_validate(raw)
    rota = rota_from(parsed)
    assert rota.on_duty(date(2026, 11, 23), STREET)[0] == ("值班区领导 林华", 7003)  # the old list: always on duty
    assert ("区领导 B", 7202) in rota.on_duty(date(2026, 12, 2), STREET)
    bad = dict(raw, escalation={**raw["escalation"], "rota": {"district": [{"name": "X", "from": "2026-11-23"}]}})
    with pytest.raises(ValueError, match="from and to"):
        Config.model_validate(bad)
    bad["escalation"]["rota"] = {"streets": {"火星街道": []}}
    with pytest.raises(ValueError, match="no street 火星街道"):
        Config.model_validate(bad)


def test_a_day_with_nobody_on_duty_is_a_start_up_warning(cfg):
    cfg.escalation.duty_leaders = []
    cfg.escalation.rota = RotaCfg(district=[DutyCfg(name="A", user_id=1, start=date(2026, 11, 23),
                                                    end=date(2026, 11, 27))])
    settings = settings_from(cfg)
    warnings = start_up_warnings(cfg, settings, date(2026, 11, 23), days=7)
    assert [w for w in warnings if w.startswith("duty rota")] == ["duty rota: nobody on duty on 2026-11-28 (district)",
                        "duty rota: nobody on duty on 2026-11-29 (district)"]


@pytest.fixture
async def rota_district(cfg, clock, tmp_path):
    cfg.escalation.duty_leaders = []
    cfg.escalation.rota = RotaCfg(
        district=[DutyCfg(name="区领导 周一", user_id=7301, start=date(2026, 11, 23), end=date(2026, 11, 23)),
                  DutyCfg(name="区领导 周二", user_id=7302, start=date(2026, 11, 24), end=date(2026, 11, 24))],
        streets={STREET: [DutyCfg(name="镇领导 温", user_id=7303, start=date(2026, 11, 23), end=date(2026, 11, 30))],
                 "鼓东街道": [DutyCfg(name="镇领导 鼓", user_id=7304, start=date(2026, 11, 23),
                                      end=date(2026, 11, 30))]})
    async with District(cfg, tmp_path, clock=clock) as d:
        for uid in (7301, 7302, 7303, 7304):
            d.emu.user(uid, f"Leader {uid}")
        yield d


async def test_difficult_cases_go_to_the_leaders_on_duty_that_day(rota_district, caplog):
    from tests.test_disposal import accepted_case, answers
    d = rota_district
    assert any("nobody on duty on 2026-11-25 (district)" in r.getMessage() for r in caplog.get_records("setup"))
    _citizen, number, chat, _ = await accepted_case(d, 8501)
    await answers(d, await d.tap_last(d.handler_of(STREET), chat, "疑难件"))
    assert await d.wait_text(7301, f"疑难件 {number}")
    assert await d.wait_text(7303, f"疑难件 {number}")
    await d.outbox_settled()
    assert not d.emu.messages(7302) and not d.emu.messages(7304)  # not on duty today / another street
    # tomorrow's duty in the summary, and the day after with nobody
    command = d.cfg.command_center.chat_id
    await d.app.job_queue.get_jobs_by_name("summary")[0].run(d.app)
    text = (await d.wait_text(command, "明日值班"))["text"]
    assert "明日值班 2026-11-24：区级 区领导 周二" in text and f"{STREET}：镇领导 温" in text
    # the leader on duty assigns; tomorrow's leader may not today
    q = await d.tap_last(d.emu.user(7301), 7301, "区建设局")
    assert (await answers(d, q))[0] == "已指定。"


async def test_the_old_flat_list_is_always_on_duty(cfg):
    cfg.escalation.rota = None
    cfg.escalation.duty_leaders = [PersonCfg(name="Lin", user_id=7003)]
    settings = settings_from(cfg)
    assert settings.rota is None and settings.duty_on(__import__("datetime").datetime.now().astimezone()) == [
        ("Lin", 7003)]


def test_units_without_leaders_are_start_up_warnings(cfg):
    warnings = start_up_warnings(cfg, settings_from(cfg), date(2026, 11, 23))
    assert "department 区建设局 (construction): no deputy and no chief (a late deadline says so in its group and " \
        "goes on to the next level)" in warnings
    assert not [w for w in warnings if "city_mgmt" in w]  # it has both
    assert any(w.startswith("street 温泉街道: no deputy and no chief") for w in warnings)


async def test_an_escalation_to_a_missing_leader_says_so_and_goes_on(district):
    """Today the message named the unit as if it were its deputy ("升级至分管领导 区建设局")."""
    from tests.test_disposal import accepted_case, call
    d = district
    _citizen, number, chat, _ = await accepted_case(d, 8502)
    assert await call(d, chat, ["区建设局"]) == "已呼叫。"  # no deputy, no chief
    dept = d.dept_chat("construction")
    await d.wait_button(dept, "响应")
    job = d.app.job_queue.get_jobs_by_name("deadlines")[0]
    d.clock.advance(minutes=10, seconds=1)  # the answer deadline lapses: the department is nagged
    await job.run(d.app)
    d.clock.advance(minutes=10)  # the deputy's turn: there is none, so the chief's, none either, then the top
    await job.run(d.app)
    await d.outbox_settled()
    said = [m.get("text") or "" for m in d.emu.messages(dept)]
    assert any("区建设局 未设分管领导，直接升级至下一级" in x for x in said), said
    assert any("区建设局 未设主责领导，直接升级至下一级" in x for x in said), said
    assert not any("升级至分管领导 区建设局" in x or "升级至主责领导 区建设局" in x for x in said)
    assert await d.wait_text(d.cfg.command_center.chat_id, f"🚨 {number}：区建设局「响应呼叫」超时")
