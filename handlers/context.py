"""What handlers reach, typed: PTB's `bot_data` is a `Services` (bot/app.py builds the application with
`ContextTypes(bot_data=Services)`), and a handler's context is `Context`. The wiring fills it by key;
the handlers read it by name, so each thing they use is declared once, here, with its type.
Things of the layer above (the config, the reports, the photo download) are named, not imported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram.ext import CallbackContext, ExtBot

from cases import Core
from cases.callbacks import PhoneBacks
from cases.checkin import OnSite
from cases.prompts import Prompts
from cases.verification import Verification


class Services(dict):
    """The handlers' view of bot_data. The wiring (bot/app.py) keeps more in it by key (the database,
    the delivery worker, the web server): handlers do not reach those."""

    @property
    def core(self) -> Core:
        return self["core"]

    @property
    def config(self):  # bot.config.Config
        return self["config"]

    @property
    def prompts(self) -> Prompts:
        return self["prompts"]

    @property
    def verification(self) -> Verification:
        return self["verification"]

    @property
    def onsite(self) -> OnSite:
        return self["onsite"]

    @property
    def phonebacks(self) -> PhoneBacks:
        return self["phonebacks"]

    @property
    def retention(self):  # storage.retention: forget(shas) drops originals no case uses
        return self["retention"]

    @property
    def receive_photo(self) -> Callable[..., Awaitable]:  # bot/uploads: download, check, store
        return self["receive_photo"]

    @property
    def reports(self):  # bot/reports: /stats, made in another process and posted
        return self["reports"]


Context = CallbackContext[ExtBot, dict, dict, Services]
