"""The application layer: config, wiring, cards and their delivery, the web server, reports, demo."""

import os

# Opt in to PTB's coming behaviour (durations as timedelta, e.g. RetryAfter.retry_after);
# bot/delivery.py accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")
