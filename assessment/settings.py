"""config.yaml's `assessment:` section: report times, who gets them, league weights and floors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Composite score weights per league (documented in docs/METRICS.md). A metric a unit has no data
# for is left out and the other weights are scaled up, so a unit is not punished for no calls.
DEFAULT_WEIGHTS = {
    "street": {"closure_rate": 0.3, "satisfaction_rate": 0.3, "respond_on_time": 0.1, "resolve_on_time": 0.2,
               "call_accuracy": 0.1},
    "department": {"answer_on_time": 0.35, "onsite_on_time": 0.35, "good_rate": 0.3},
    "grid": {"closure_rate": 0.4, "satisfaction_rate": 0.3, "resolve_on_time": 0.3},
}
DEFAULT_FLOORS = {"satisfaction_rate": 0.9, "closure_rate": 0.9, "answer_on_time": 0.9, "onsite_on_time": 0.9}
RATES = ("closure_rate", "satisfaction_rate", "unsatisfied_rate", "reopen_rate", "respond_on_time",
         "answer_on_time", "onsite_on_time", "resolve_on_time", "call_accuracy", "good_rate")
_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssessmentCfg(_Strict):
    weekly: str = Field("09:00", pattern=_TIME)  # Mondays, the week before
    weekly_day: int = Field(0, ge=0, le=6)  # 0 Monday … 6 Sunday
    monthly: str = Field("09:00", pattern=_TIME)  # the 1st, the month before
    half_yearly: str = Field("09:30", pattern=_TIME)  # 1 January and 1 July, the half before
    recipients: list[int] = []  # leaders (Telegram user ids) who want the reports privately
    weights: dict[str, dict[str, float]] = Field(default_factory=lambda: {k: dict(v) for k, v in
                                                                           DEFAULT_WEIGHTS.items()})
    floors: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_FLOORS))  # below: marked ⚠
    repeat_radius_m: float = Field(100.0, gt=0)  # 共性: same category within this distance …
    repeat_min_cases: int = Field(3, ge=2)  # … this many times in the period

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for league, weights in v.items():
            if league not in DEFAULT_WEIGHTS:
                raise ValueError(f"unknown league {league!r}; use street, department or grid")
            bad = [k for k in weights if k not in RATES]
            if bad:
                raise ValueError(f"{league}: unknown metric {', '.join(bad)}; use {', '.join(RATES)}")
            if any(w < 0 for w in weights.values()) or not sum(weights.values()):
                raise ValueError(f"{league}: weights must be ≥ 0 and not all 0")
        return {**{k: dict(w) for k, w in DEFAULT_WEIGHTS.items()}, **v}

    @field_validator("floors")
    @classmethod
    def _floors(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, x in v.items() if k not in RATES or not 0 <= x <= 1]
        if bad:
            raise ValueError(f"floors: {', '.join(bad)} (a rate name with a value between 0 and 1)")
        return v
