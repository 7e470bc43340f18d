"""The chaos run's short form (bench/chaos.py): two replicas as processes on PostgreSQL, 10 % of Bot
API calls failing with 5xx and some 429s, one replica SIGKILLed mid-run and restarted."""

from __future__ import annotations

import pytest

from bench.chaos import run
from tests import pg


@pytest.mark.pg
@pytest.mark.skipif(not pg.URL, reason="replicas need PostgreSQL: set TEST_DATABASE_URL")
async def test_chaos_short_form_loses_nothing_and_fires_each_step_once():
    result = await run(pg.URL, reports=24, citizens=6, seed=3)
    print(result)
    assert result["missing_cards"] == [] and result["missing_receipts"] == []
    assert result["deadline_step_errors"] == 0 and result["nag_messages_missing"] == 0
    assert result["killed"] and result["faults_injected"].get("429")
    assert result["cases"] >= 20 and not result["outbox"].get("failed") and not result["outbox"].get("pending")
    assert result["ok"], result
