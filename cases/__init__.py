"""The channel-free core: case lifecycle, deadline policy, escalation, ratings. No Telegram here."""

from cases.binding import Bindings
from cases.core import CoreBase
from cases.deadlines import Deadlines
from cases.disposal import Disposal
from cases.escalations import Escalations
from cases.intake import Intake
from cases.lifecycle import Lifecycle


class Core(CoreBase):
    """The shared parts and one service per area, each given what it uses of another here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bindings = Bindings(self.db, self.clock, self.settings, self.directory, self.outbox_written)
        self.escalations = Escalations(self)
        self.intake = Intake(self, self.bindings)
        self.lifecycle = Lifecycle(self)
        self.disposal = Disposal(self, self.escalations.mark_difficult)
        self.deadlines = Deadlines(self, self.escalations.mark_difficult)
