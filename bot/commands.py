"""The command menu Telegram shows: per language (zh, en, and the configured default for every other
language) and per scope (private chats; groups), so a group is never offered a private command."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

# command -> (zh, en) description
PRIVATE = {"start": ("开始", "start"), "help": ("帮助", "help"), "mycases": ("我的诉求", "my reports"),
           "case": ("查看诉求", "show a report"),
           "withdraw": ("撤回未受理的诉求", "withdraw a report not yet accepted"),
           "stats": ("监督考核统计（领导、监督人员）", "assessment statistics (leaders, oversight)"),
           "cancel": ("取消当前操作", "cancel")}
GROUP = {"help": ("本群可用的操作", "what this group can do"),
         "bind": ("绑定本群（需绑定码）", "bind this group (with a code)"),
         "cancel": ("取消网格员草稿", "cancel a grid worker's draft"),
         "unbind": ("指挥中心：解绑单位的群", "command centre: unbind a unit's group"),
         "revoke": ("指挥中心：撤销网格员", "command centre: revoke a grid worker"),
         "callback": ("指挥中心：记录回访结果", "command centre: record a phone-back"),
         "stats": ("指挥中心：监督考核统计", "command centre: assessment statistics")}
LANGS = ("zh", "en")


def commands(table: dict, lang: str) -> list[BotCommand]:
    return [BotCommand(name, pair[1] if lang == "en" else pair[0]) for name, pair in table.items()]


async def register(bot: Bot, default_lang: str) -> None:
    """Every scope in each language, and without a language code in the default; the old
    all-scopes menu (one list, both languages in each line) is removed."""
    await bot.delete_my_commands()
    for scope, table in ((BotCommandScopeAllPrivateChats(), PRIVATE), (BotCommandScopeAllGroupChats(), GROUP)):
        for lang in LANGS:
            await bot.set_my_commands(commands(table, lang), scope=scope, language_code=lang)
        await bot.set_my_commands(commands(table, default_lang), scope=scope)
