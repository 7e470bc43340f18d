"""监督考核 (supervision and assessment): rates, scorecards, league tables and recurring problems, all
computed from the trace (cases, calls, deadlines), so every figure can be traced back to its cases.
Channel-free: no Telegram here; bot/reports renders what this package computes."""
