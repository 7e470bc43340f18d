"""The channel-free core: case lifecycle, deadline policy, escalation, ratings. No Telegram here."""

from cases.disposal import DisposalMixin
from cases.intake import IntakeMixin
from cases.lifecycle import LifecycleMixin


class Core(IntakeMixin, LifecycleMixin, DisposalMixin):
    pass
