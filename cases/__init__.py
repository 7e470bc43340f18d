"""The channel-free core: case lifecycle, deadline policy, escalation, ratings. No Telegram here."""

from cases.binding import BindingMixin
from cases.deadlines import DeadlineMixin
from cases.disposal import DisposalMixin
from cases.escalations import EscalationMixin
from cases.intake import IntakeMixin
from cases.lifecycle import LifecycleMixin


class Core(IntakeMixin, LifecycleMixin, DisposalMixin, DeadlineMixin, EscalationMixin, BindingMixin):
    pass
