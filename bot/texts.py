"""Every text the bot shows, Chinese first, English too. Templates are HTML; arguments are escaped."""

from __future__ import annotations

from html import escape

TEXTS: dict[str, tuple[str, str]] = {
    "start": (
        "您好！这里是<b>一线呼叫</b>随手拍。\n发现道路破损、垃圾堆放、积水等问题：\n"
        "1. 发一张或几张照片（最多 {n} 张）\n2. 发送位置（📎→位置，或点下方按钮）\n"
        "3. 选择类别，可补充一句说明，确认提交。\n我们会把诉求交给属地街镇，并告诉您每一步进展。\n"
        "/mycases 我的诉求 · /case 编号 查看进度 · /cancel 取消 · /help 帮助",
        "Hello! This is the <b>front-line call</b> reporting bot.\nSeen a broken road, piled-up garbage, "
        "standing water?\n1. Send one or more photos (up to {n})\n2. Send the place (📎 → Location, or the "
        "button below)\n3. Pick a category, add a sentence if you like, confirm.\nWe pass it to the street "
        "that owns the place and tell you every step.\n/mycases my reports · /case NUMBER progress · "
        "/cancel cancel · /help help"),
    "help": (
        "怎么报告：发照片 → 发位置 → 选类别 → 确认。顺序可以颠倒。\n"
        "照片作为“文件”发送时，如含定位信息，可直接使用。\n"
        "/mycases 我的诉求\n/case 编号 查看一件诉求的全过程\n/cancel 放弃正在填写的诉求\n/help 本帮助",
        "How to report: photo → place → category → confirm, in either order.\n"
        "A photo sent as a file may carry its GPS position, which you can use.\n"
        "/mycases my reports\n/case NUMBER one report's timeline\n/cancel drop the report in progress\n"
        "/help this help"),
    "group_help": (
        "本群接收属地诉求。点卡片上的“接单”成为经办人。", "This group receives cases for its area. "
        "Tap Accept on a card to become its handler."),
    "ask_photo": ("请发一张现场照片。", "Please send a photo of the problem."),
    "ask_place": ("收到 {n} 张照片。请发送位置：📎→位置，或点下方“发送我的位置”。",
                  "{n} photo(s) received. Please send the place: 📎 → Location, or tap “Send my location”."),
    "ask_exif": ("照片里带有定位：{lat:.5f}, {lon:.5f}。使用这个位置吗？",
                 "The photo carries a position: {lat:.5f}, {lon:.5f}. Use it?"),
    "ask_category": ("请选择问题类别：", "Please choose a category:"),
    "ask_description": ("可以补充一句说明（直接发文字），或点“跳过”。",
                        "Add a sentence if you like (just type it), or tap Skip."),
    "summary": ("请确认：\n类别：{category}\n照片：{n} 张\n位置：{place}\n说明：{description}",
                "Please confirm:\nCategory: {category}\nPhotos: {n}\nPlace: {place}\nNote: {description}"),
    "photo_added": ("已收到第 {n} 张照片。", "Photo {n} received."),
    "place_set": ("位置已记录。", "Place recorded."),
    "receipt": ("✅ 已受理，编号 <b>{number}</b>。\n{routing}\n{deadlines}\n用 /case {number} 随时查看进度。",
                "✅ Received, number <b>{number}</b>.\n{routing}\n{deadlines}\nUse /case {number} to follow it."),
    "routed_to": ("已转交：{street}", "Passed to: {street}"),
    "routed_command": ("已转交区指挥中心，由其分派街镇。", "Passed to the command centre, which assigns a street."),
    "accepted": ("您的诉求 {number} 已由{street}接单处理。", "Your report {number} was accepted by {street}."),
    "draft_expired": ("您的诉求草稿 {minutes} 分钟未操作，已自动取消。需要时请重新发送照片。",
                      "Your unfinished report was idle for {minutes} minutes and has been dropped. "
                      "Send a photo to start again."),
    "cancelled": ("已取消，草稿已删除。", "Cancelled; the draft is deleted."),
    "nothing_to_cancel": ("当前没有进行中的操作。", "Nothing in progress."),
    # refusals
    "too_big": ("图片太大（上限 {mb} MB），请压缩后重发，或直接作为照片发送。",
                "The image is too large (limit {mb} MB). Send a smaller one, or send it as a photo."),
    "bomb": ("图片像素过多，无法处理，请发送普通照片。", "The image has too many pixels; please send an ordinary photo."),
    "corrupt": ("图片已损坏，无法打开，请重新拍摄或发送。", "The image is damaged and cannot be opened; please send it again."),
    "not_image": ("这不是图片文件。请发送照片（JPG/PNG）。", "That file is not an image. Please send a photo (JPG/PNG)."),
    "heic": ("暂不支持 HEIC 格式，请作为“照片”发送（不要作为文件），或转为 JPG。",
             "HEIC is not supported; send it as a photo (not as a file) or convert it to JPG."),
    "too_many_photos": ("每件诉求最多 {n} 张照片，多余的未保存。", "At most {n} photos per report; the extra ones were not kept."),
    "far_away": ("这个位置离本区约 {km} 公里，不在服务范围内。请发送问题所在的位置。",
                 "That place is about {km} km from the district, outside our area. Please send where the problem is."),
    "bad_place": ("位置无效，请重新发送。", "That place is not valid; please send it again."),
    "flood": ("一小时内最多提交 {n} 件诉求，请稍后再试。草稿已保留。",
              "At most {n} reports per hour; please try again later. Your draft is kept."),
    "too_long": ("说明最多 {n} 个字，请精简后重发。", "The note may have at most {n} characters; please shorten it."),
    "unsupported": ("暂时只能处理照片、位置和文字。{hint}", "I can only handle photos, places and text. {hint}"),
    "stale": ("这个按钮已失效。", "This button is no longer valid."),
    "error": ("抱歉，出了点问题，请稍后再试。您的草稿已保留。", "Sorry, something went wrong. Please try again; "
              "your draft is kept."),
    "no_cases": ("您还没有提交过诉求。", "You have not reported anything yet."),
    "my_cases": ("您的诉求：", "Your reports:"),
    "case_usage": ("用法：/case 编号，例如 /case GL-20261122-0042", "Usage: /case NUMBER, e.g. /case GL-20261122-0042"),
    "case_not_found": ("没有找到这个编号的诉求。", "No report with that number."),
    # taps in groups
    "accepted_tap": ("接单成功，您是经办人。", "Accepted: you are the handler."),
    "already_taken": ("已被 {name} 接单。", "Already accepted by {name}."),
    "already_yours": ("您已接单。", "You already accepted it."),
    "not_your_group": ("只有本案属地群的成员可以操作。", "Only members of this case's group can do that."),
    "routed_tap": ("已分派。", "Assigned."),
    "already_routed": ("已经分派过了。", "Already assigned."),
    "street_unbound": ("该街镇尚未绑定群组。", "That street has no group yet."),
    # card parts
    "card_title": ("🆕 诉求 {number}", "🆕 Case {number}"),
    "routing_title": ("📍 待分派 {number}（不在任何街镇范围内）", "📍 To assign {number} (outside every street)"),
    "card_accepted": ("✅ 已接单：{name}，{time}", "✅ Accepted by {name} at {time}"),
    "card_routed": ("➡️ 已分派至 {street}", "➡️ Assigned to {street}"),
}

STATES = {
    "unrouted": ("待分派", "awaiting assignment"), "routed": ("待接单", "awaiting acceptance"),
    "accepted": ("处理中", "in progress"),
}
LIMITS = {"respond": ("响应", "respond"), "assign": ("交办", "hand over"), "checkin": ("到场", "on site"),
          "resolve": ("办结", "resolve")}
EVENTS = {
    "reported": ("提交诉求", "reported"), "routed": ("转交 {street}", "passed to {street}"),
    "to_command": ("转交指挥中心", "passed to the command centre"), "accepted": ("已接单", "accepted"),
}
BUTTONS = {
    "skip": ("跳过", "Skip"), "confirm": ("✅ 确认提交", "✅ Confirm"), "edit": ("✏️ 修改", "✏️ Edit"),
    "cancel": ("✖️ 取消", "✖️ Cancel"), "accept": ("接单", "Accept"), "yes": ("使用", "Use it"),
    "no": ("不用", "No"), "edit_photos": ("重发照片", "Replace photos"), "edit_place": ("重发位置", "Replace place"),
    "edit_details": ("重选类别", "Change category"), "send_location": ("📍 发送我的位置", "📍 Send my location"),
}


def lang_of(language_code: str | None, default: str = "zh") -> str:
    if not language_code:
        return default
    return "en" if language_code.lower().startswith("en") else "zh"


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: str, **args) -> str:
    """The text for `key`, with every string argument HTML-escaped."""
    safe = {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}
    return pick(TEXTS[key], lang).format(**safe)


def both(key: str, **args) -> str:
    """Group messages carry Chinese and English: members' languages differ."""
    return t(key, "zh", **args) + "\n" + t(key, "en", **args)
