"""One inline button from its words and its declared protocol: the pair every keyboard is built of."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from ui.buttons import Button
from ui.texts import BUTTONS, pick


def key(word: str, lang: str, button: Button, *values) -> InlineKeyboardButton:
    """The button called `word` in `lang`, whose tap carries `button`'s data for `values`."""
    return InlineKeyboardButton(pick(BUTTONS[word], lang), callback_data=button.data(*values))
