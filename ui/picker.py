"""The department picker (一线呼叫): its text and keyboard, from the settings alone.

The selection travels in the buttons (a bit mask over the departments in config order, bit i the
i-th), so the picker survives a restart and needs no state of its own.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ui import buttons
from ui.keys import key
from ui.names import department_name
from ui.texts import t

PAGE_SIZE = 10  # departments on one page


def departments_in(settings, mask: int) -> list[str]:
    """The department keys a picker's bit mask selects."""
    return [k for i, k in enumerate(settings.departments) if mask >> i & 1]


def department_names(settings) -> list[str]:
    """The departments' names in the groups' language, in config order (bit i of a picker's mask)."""
    return [department_name(settings, k, settings.group_lang) for k in settings.departments]


def pages(settings) -> int:
    return max(1, -(-len(settings.departments) // PAGE_SIZE))


def text(settings, number: str, mask: int, page: int = 0) -> str:
    """The picker's question, its page, and what is chosen so far (also on other pages)."""
    lg, n = settings.group_lang, pages(settings)
    lines = [t("pick_departments", lg, number=number)]
    if n > 1:
        lines.append(t("picker_page", lg, page=min(page, n - 1) + 1, pages=n))
    chosen = [name for i, name in enumerate(department_names(settings)) if mask >> i & 1]
    if chosen:
        lines.append(t("picked", lg, names=("、" if lg != "en" else ", ").join(chosen)))
    return "\n".join(lines)


def keyboard(settings, case_id: int, mask: int, page: int = 0, onsite: datetime | None = None) -> InlineKeyboardMarkup:
    """PAGE_SIZE departments a page, two a row (Gulou has 96); the selection is kept across pages.
    onsite: the case's own on-site deadline, offered as the call's time when it is still ahead."""
    lg, names, n = settings.group_lang, department_names(settings), pages(settings)
    page = min(page, n - 1)
    tiles = [InlineKeyboardButton(f"{'☑️' if mask >> i & 1 else '⬜'} {names[i]}",
                                  callback_data=buttons.PICK.data(case_id, mask ^ (1 << i), page))
             for i in range(page * PAGE_SIZE, min(len(names), (page + 1) * PAGE_SIZE))]
    rows = [tiles[i:i + 2] for i in range(0, len(tiles), 2)]
    if n > 1:  # both ways round: the last page's ▶ leads to the first
        rows.append([key("prev_page", lg, buttons.PICK, case_id, mask, (page - 1) % n),
                     key("next_page", lg, buttons.PICK, case_id, mask, (page + 1) % n)])
    times = [key("t" + code, lg, buttons.CALL_BY, case_id, mask, buttons.CALL_TIMES[code])
             for code in ("30", "60", "120", "am", "typed")]
    first = [[InlineKeyboardButton(t("t_onsite", lg, time=onsite.astimezone(settings.tz).strftime("%H:%M")),
                                   callback_data=buttons.CALL_BY.data(case_id, mask, "cd"))]] if onsite else []
    return InlineKeyboardMarkup([*rows, *first, times[:2], times[2:4], times[4:]])
