"""The channel-free core: case lifecycle, deadline policy, escalation, ratings. No Telegram here."""

from cases.binding import Bindings
from cases.deadlines import DeadlineMixin
from cases.disposal import DisposalMixin
from cases.escalations import EscalationMixin
from cases.intake import IntakeMixin
from cases.lifecycle import LifecycleMixin


class Core(IntakeMixin, LifecycleMixin, DisposalMixin, DeadlineMixin, EscalationMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A service, not a mixin: the intake asks it whose grid a report is credited to.
        self.bindings = Bindings(self.db, self.clock, self.settings, self.directory, self.outbox_written)
