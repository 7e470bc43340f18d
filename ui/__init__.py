"""Presentation below the handlers: what the user sees and taps, with no wiring and no database."""
