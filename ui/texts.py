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
        "/mycases 我的诉求\n/case 编号 查看一件诉求的全过程\n/withdraw 编号 街镇接单前撤回诉求\n"
        "/cancel 放弃正在填写的诉求\n/help 本帮助",
        "How to report: photo → place → category → confirm, in either order.\n"
        "A photo sent as a file may carry its GPS position, which you can use.\n"
        "/mycases my reports\n/case NUMBER one report's timeline\n/withdraw NUMBER withdraw it before a street "
        "accepts it\n/cancel drop the report in progress\n"
        "/help this help"),
    "group_help": (
        "本群接收属地诉求。点卡片上的“接单”成为经办人；回复卡片并附处置后照片即可办结。\n"
        "部门群：点“响应”，再点“报到”到现场报到；回复卡片可留言。\n"
        "网格群：网格员在本群发照片和位置即可快速上报；/cancel 放弃正在填写的上报。\n"
        "/bind 绑定码 绑定本群。",
        "This group receives cases for its area. Tap Accept on a card to become its handler; reply to the "
        "card with an after photo to resolve it.\nDepartment groups: tap Answer, then Check in on site; "
        "reply to a card to leave a note.\nGrid groups: grid workers post a photo and the place here to "
        "report fast; /cancel drops a report being filled in.\n/bind CODE binds this group."),
    "ask_photo": ("请发一张现场照片。", "Please send a photo of the problem."),
    "ask_place": ("收到 {n} 张照片。请发送位置：📎→位置，或点下方“发送我的位置”。",
                  "{n} photo(s) received. Please send the place: 📎 → Location, or tap “Send my location”."),
    "ask_place_group": ("收到 {n} 张照片。请发送位置：📎→位置。", "{n} photo(s) received. Please send the place: 📎 → Location."),
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
    # calls, check-ins, resolution, ratings
    "n_called": ("您的诉求 {number} 已呼叫 {n} 个部门到场处置。", "For your report {number}, {n} department(s) were called to the site."),
    "n_on_site": ("您的诉求 {number}：部门人员已到达现场。", "Your report {number}: department staff are on site."),
    "n_resolved": ("您的诉求 {number} 已处置完毕，处置前后照片如上。请评价：", "Your report {number} has been resolved; before and after photos above. Please rate it:"),
    "n_reopened": ("已重新办理您的诉求 {number}，街镇会再次处理。", "Your report {number} has been reopened; the street will deal with it again."),
    "ask_comment": ("想补充几句意见吗？直接发送文字即可（可选），或点“跳过”。", "Anything to add? Just type it (optional), or tap Skip."),
    "comment_saved": ("已收到您的意见，已转给处理单位。", "Thank you: your words were passed to the team that handled it."),
    "s_comment": ("💬 群众对 {number} 的评价：{rating}。意见：{text}", "💬 The citizen rated {number} {rating}: {text}"),
    "n_thanks": ("感谢评价！诉求 {number} 已办结。", "Thank you! Report {number} is closed."),
    "n_closed_unrated": ("诉求 {number} 已办结（未评价）。", "Report {number} is closed (not rated)."),
    "s_answered": ("📣 {number}：{department} 已响应（{name}）。", "📣 {number}: {department} answered ({name})."),
    "s_checked_in": ("📍 {number}：{department} 的 {name} 已到场报到（距现场 {m} 米）。", "📍 {number}: {name} of {department} checked in on site ({m} m away)."),
    "s_declined": ("↩️ {number}：{department} 表示不属于本部门职责。理由：{reason}", "↩️ {number}: {department} says it is not theirs: {reason}"),
    "c_returned": ("↩️ {street} 退回 {number}（非本辖区），理由：{reason}", "↩️ {street} returned {number} (not theirs): {reason}"),
    "ask_not_ours": ("请回复本消息，说明 {number} 为何不属于本辖区：", "Reply to this message: why is {number} not yours?"),
    "ask_decline": ("请回复本消息，说明 {number} 为何不属于本部门职责：", "Reply to this message: why is {number} not your department's?"),
    "ask_time": ("请回复本消息写到场时限，如 45分钟、3小时、16:30、11-24 09:00：", "Reply to this message with the check-in time, e.g. 45m, 3h, 16:30, 11-24 09:00:"),
    "bad_time": ("看不懂这个时间（须在 7 天内），请再回复一次，如 45分钟、3小时、16:30。", "I cannot read that time (it must be within 7 days); reply again, e.g. 45m, 3h, 16:30."),
    "call_place_set": ("已设定到场地点；请选择部门和时限。", "Meeting place set; now pick departments and a time."),
    "prompt_used": ("这个问题已经回答过了。", "That question was already answered."),
    "prompt_asked": ("已在群里提问，请回复那条消息。", "Asked in the group: reply to that message."),
    "s_note": ("💬 {number} {department}（{name}）：{text}", "💬 {number} {department} ({name}): {text}"),
    "pick_departments": ("{number}：选择要呼叫的部门（可多选），再选到场时限。到场地点默认为诉求位置；回复本消息发送位置可另设。", "{number}: choose the departments to call (several allowed), then the check-in time. They meet at the reported place unless you reply to this message with another location."),
    "resolve_how": ("请回复诉求卡片：发一张处置后的照片，并在照片说明里写处置情况。没有照片不能办结。", "Reply to the case card with an after photo, and write what was done in its caption. No photo, no resolution."),
    "need_photo": ("没有处置后照片，不能办结。请回复卡片并附照片。", "No after photo, no resolution. Reply to the card with a photo."),
    "need_note": ("请在照片说明里写处置情况。", "Please write what was done in the photo's caption."),
    "resolved_tap": ("已办结，等待群众评价。", "Resolved; waiting for the citizen's rating."),
    "called": ("已呼叫。", "Called."),
    "already_called": ("这些部门已在呼叫中。", "Those departments are already called."),
    "picker_page": ("第 {page}/{pages} 页", "Page {page} of {pages}"),
    "picked": ("已选：{names}", "Chosen: {names}"),
    "pick_one": ("请至少选择一个部门。", "Choose at least one department."),
    "wrong_state": ("当前状态不能这样操作。", "Not possible in the case's current state."),
    "answered": ("已响应，请按时到场报到。", "Answered; please check in on site in time."),
    "call_answered": ("已有人响应。", "Already answered."),
    "call_checked_in": ("已报到。", "Already checked in."),
    "call_declined": ("该呼叫已退回。", "This call was declined."),
    "declined": ("已退回呼叫方。", "Returned to the caller."),
    "checkin_ask": ("请发送您当前的位置完成报到（点下方按钮）。", "Send your current location to check in (tap the button below)."),
    "checked_in": ("报到成功，距现场 {m} 米。", "Checked in, {m} m from the place."),
    "too_far": ("报到失败：您距现场 {m} 米，需在 {r} 米以内。", "Check-in refused: you are {m} m from the place; it must be within {r} m."),
    "not_member": ("只有该部门群的成员可以报到。", "Only members of the department's group can check in."),
    "rate_dept": ("请评价 {department} 对诉求 {number} 的响应：", "Rate how {department} responded to case {number}:"),
    "rate_call": ("诉求 {number} 的呼叫是否准确（确属本部门职责）？", "Was the call for case {number} accurate (really your department's)?"),
    "thanks": ("已记录评价。", "Rating recorded."),
    "already_rated": ("已经评价过了。", "Already rated."),
    "rated_satisfied": ("感谢评价！", "Thank you!"), "rated_mostly": ("感谢评价！", "Thank you!"),
    "rated_unsatisfied": ("已重新办理。", "Reopened."),
    "noted": ("已转告街镇。", "Passed to the street."),
    "not_ours_done": ("已退回区指挥中心重新分派。", "Returned to the command centre for assignment."),
    "card_resolved": ("✅ 已办结：{time}\n处置情况：{note}", "✅ Resolved at {time}\nWhat was done: {note}"),
    "card_closed": ("🏁 已结案（评价：{rating}）", "🏁 Closed (rating: {rating})"),
    "call_title": ("📣 呼叫 {number}", "📣 Call {number}"),
    "tracking_title": ("👁 跟踪 {number}：市直单位 {department}", "👁 Tracking {number}: city unit {department}"),
    # deadlines
    "dl_warn": ("⚠️ {number}：{unit}「{what}」将于 {due} 到期。", "⚠️ {number}: {unit} must {what} by {due}."),
    "dl_level1": ("⏰ {number}：{unit}「{what}」已超时（应于 {due}），请 {name} 立即处理。", "⏰ {number}: {unit} is late to {what} (due {due}); {name}, please act now."),
    "dl_level2": ("🔺 {number}：「{what}」超时 {minutes} 分钟，已升级至分管领导 {name}。", "🔺 {number}: {what} is {minutes} min late; escalated to deputy {name}."),
    "dl_level3": ("🔺 {number}：「{what}」超时 {minutes} 分钟，已升级至主责领导 {name}。", "🔺 {number}: {what} is {minutes} min late; escalated to chief {name}."),
    "dl_level4": ("🚨 {number}：{unit}「{what}」超时 {minutes} 分钟，已上报指挥中心，列为疑难件。", "🚨 {number}: {unit} is {minutes} min late to {what}; escalated to the command centre as a difficult case."),
    "dl_private": ("⏰ 请关注：诉求 {number}，{unit}「{what}」应于 {due} 完成，已超时 {minutes} 分钟。", "⏰ Please see to case {number}: {unit} had to {what} by {due}; {minutes} min late."),
    "daily_summary": ("📊 {day} 日报\n{body}", "📊 Daily summary {day}\n{body}"),
    # extensions and difficult cases
    "ext_pick": ("申请延期多久？（之后请回复说明理由）", "Extend by how much? (Then reply with the reason.)"),
    "ask_reason": ("请回复本消息，说明延期理由。", "Reply to this message with the reason for the extension."),
    "ext_request": ("⏳ {number}：{who} 申请把「{what}」从 {old} 延至 {new}。\n理由：{reason}", "⏳ {number}: {who} asks to move “{what}” from {old} to {new}.\nReason: {reason}"),
    "extension_sent": ("延期申请已提交，等待审批。", "Extension request sent for approval."),
    "ext_approved": ("✅ {number}：延期已批准（{name}），新时限 {due}。", "✅ {number}: extension approved by {name}; new deadline {due}."),
    "ext_refused": ("❌ {number}：延期未获批准（{name}），原时限不变。", "❌ {number}: extension refused by {name}; the deadline stands."),
    "ext_done": ("已处理。", "Done."),
    "already_decided": ("已经审批过了。", "Already decided."),
    "already_asked": ("理由已提交。", "Reason already given."),
    "too_many_extensions": ("该时限延期次数已达上限。", "This deadline has been extended the maximum number of times."),
    "no_deadline": ("没有可延期的时限。", "No deadline to extend."),
    # Why a case became difficult (cases: mark_difficult's reason["why"]).
    "why_top_of_chain": ("{unit}「{what}」超时升级至顶层", "{unit}: “{what}” late up to the top of its chain"),
    "why_handler": ("经办人标记", "marked by the handler"),
    "why_reopened_twice": ("两次重办", "reopened twice"),
    "why_disputed": ("{department} 退回有争议", "{department}'s “not ours” is disputed"),
    "difficult_card": ("❗ 疑难件 {number}\n原因：{reason}\n街镇：{street}\n类别：{category}\n位置：{place}\n请值班领导指定责任单位：", "❗ Difficult case {number}\nWhy: {reason}\nStreet: {street}\nCategory: {category}\nPlace: {place}\nDuty leader, name the responsible unit:"),
    "difficult_sent": ("已列为疑难件，提交值班领导。", "Marked difficult and passed to the duty leaders."),
    "already_difficult": ("已是疑难件。", "Already a difficult case."),
    "assigned": ("📌 {number}：值班领导 {name} 指定 {unit} 负责（决定具有约束力）。", "📌 {number}: duty leader {name} made {unit} responsible (binding)."),
    "assigned_tap": ("已指定。", "Assigned."),
    "already_assigned": ("已经指定过了。", "Already assigned."),
    "not_duty_leader": ("只有值班领导可以指定。", "Only the duty leaders can assign."),
    "bind_usage": ("发送 /bind 绑定码：群绑定码在群里发送，网格员登记码在私聊发送（由管理员用 python -m bot bind-code 生成）。", "Send /bind CODE: a group code in the group, a grid worker code in the private chat (an administrator makes codes with python -m bot bind-code)."),
    "bound": ("✅ 本群已绑定：{name}。今后的诉求卡片会发到这里。", "✅ This group is now {name}'s: its cases will be posted here."),
    "bad_code": ("绑定码无效或已使用。", "That code is unknown or already used."),
    "code_private": ("这是网格员登记码，请在与本机器人的私聊中发送 /bind 登记码。", "This is a grid worker code: send /bind CODE in your private chat with the bot."),
    "code_group": ("这是群绑定码，请在要绑定的群里发送。", "This code binds a group: send it in that group."),
    "worker_registered": ("✅ 您已登记为 {grid} 的网格员。发照片和位置即可快速上报，上报记入您的网格。", "✅ You are now a grid worker of {grid}. Send a photo and the place to report fast; reports are credited to your grid."),
    # card parts
    "card_title": ("🆕 诉求 {number}", "🆕 Case {number}"),
    "routing_title": ("📍 待分派 {number}（不在任何街镇范围内）", "📍 To assign {number} (outside every street)"),
    "routing_title_returned": ("📍 待分派 {number}（{street}退回）", "📍 To assign {number} (handed back by {street})"),
    "card_accepted": ("✅ 已接单：{name}，{time}", "✅ Accepted by {name} at {time}"),
    "card_routed": ("➡️ 已分派至 {street}", "➡️ Assigned to {street}"),
    # ---- copies of cards and rounds of a case (cases/rounds.py, handlers/copies.py) ----
    "old_round": ("这个按钮已过期：诉求已进入新一轮办理，请使用最新的消息。",
                  "This button is out of date: the case has moved on to a new round; use the newest message."),
    "old_card": ("这张卡片属于已结束的一轮办理，请回复下方最新的卡片。",
                 "This card belongs to a finished round; reply to the newest card below."),
    "card_title_reopened": ("🔁 重办 {number}（第 {round} 轮）", "🔁 Reopened {number} (round {round})"),
    "card_reopened": ("😞 群众对上一轮办理不满意，已重新办理。", "😞 The citizen was not satisfied with the last round: reopened."),
    "card_reopened_comment": ("😞 群众对上一轮办理不满意，已重新办理。意见：{comment}",
                              "😞 The citizen was not satisfied with the last round: reopened. Their words: {comment}"),
    "card_superseded": ("🔁 群众不满意，已转入第 {round} 轮重新办理，请见下方新卡片。",
                        "🔁 Not satisfied: reopened as round {round}; see the new card below."),
    # ---- data and limits (issue 11, second half): moved cards, /case in full, uploads, withdrawal ----
    "card_moved": ("↩️ 本群已退回此件，现由 {street} 处理。", "↩️ Handed back by this group; now with {street}."),
    "card_moved_command": ("↩️ 本群已退回此件，由区指挥中心重新分派。",
                           "↩️ Handed back by this group; the command centre assigns it again."),
    "card_withdrawn": ("🚫 报告人已撤回此件。", "🚫 The reporter withdrew this case."),
    "case_note": ("说明：{note}", "Note: {note}"),
    "case_resolution": ("处置情况：{note}", "What was done: {note}"),
    "upload_quota": ("这一小时上传的照片已达 {mb} MB，请稍后再发。", "You have sent {mb} MB of photos this hour; please try again later."),
    "withdraw_usage": ("用法：/withdraw 编号（街镇接单前可撤回）", "Usage: /withdraw NUMBER (before a street accepts it)"),
    "withdrawn": ("已撤回 {number}。", "{number} is withdrawn."),
    "withdraw_too_late": ("{number} 已由街镇受理，无法撤回；如有问题请在评价时说明。",
                          "{number} has already been accepted by a street and can no longer be withdrawn."),
    # ---- intake channels (the Open311 API, api/): cases filed by the 12345 hotline and other systems
    "routing_title_address": ("📍 待定位 {number}（只有地址：请回复一个位置，或点选街镇）", "📍 To place {number} (an address only: reply with a location, or tap a street)"),
    "placed": ("已定位并分派。", "Placed and assigned."),
    "placed_unowned": ("已定位，但没有已绑定的街镇管辖该位置，请点选街镇。", "Placed, but no bound street owns that point: tap a street."),
    # ---- 监督考核 (assessment): /stats and reports (handlers/stats.py) ----
    "stats_not_allowed": (
        "抱歉，统计报表仅限指挥中心群、领导和监督人员查看。",
        "Sorry: statistics are only for the command centre group, leaders and oversight."),
    "stats_usage": (
        "用法：/stats、/stats week|month|half、/stats 2026-11、/stats 2026-W47、/stats 2026-H2",
        "Usage: /stats, /stats week|month|half, /stats 2026-11, /stats 2026-W47, /stats 2026-H2"),
    "stats_working": (
        "正在生成 {period} 的监督考核报表（文字、图表、工作簿）…",
        "Making the {period} assessment report (text, charts, workbook)…"),

}

# issue 11 (security): its texts live in ui/texts_security.py
from ui import texts_security  # noqa: E402

TEXTS.update(texts_security.TEXTS)

STATES = {
    "unrouted": ("待分派", "awaiting assignment"), "routed": ("待接单", "awaiting acceptance"),
    "accepted": ("处理中", "in progress"), "resolved": ("已办结，待评价", "resolved, awaiting rating"),
    "closed": ("已结案", "closed"), "withdrawn": ("已撤回", "withdrawn"),
}
CALL_STATES = {"pending": ("待响应", "awaiting answer"), "answered": ("已响应", "answered"),
               "checked_in": ("已到场", "on site"), "declined": ("已退回", "declined")}
RATING_NAMES = {"satisfied": ("满意", "satisfied"), "mostly": ("基本满意", "mostly satisfied"),
                "unsatisfied": ("不满意", "not satisfied"), "none": ("未评价", "not rated")}
LIMITS = {"respond": ("响应", "respond"), "assign": ("交办", "hand over"), "checkin": ("到场", "on site"),
          "resolve": ("办结", "resolve")}
DEADLINE_WORDS = {**LIMITS, "answer": ("响应呼叫", "answer the call"), "checkin": ("到场报到", "check in on site")}
EVENTS = {
    "reported": ("提交诉求", "reported"), "routed": ("转交 {street}", "passed to {street}"),
    "to_command": ("转交指挥中心", "passed to the command centre"), "accepted": ("已接单", "accepted"),
    "called": ("呼叫部门", "departments called"), "answered": ("部门响应", "a department answered"),
    "checked_in": ("部门到场报到", "a department checked in on site"), "declined": ("部门退回呼叫", "a call was declined"),
    "checkin_refused": ("报到未通过（距离过远）", "a check-in was refused (too far)"),
    "note": ("部门留言", "a department note"), "resolved": ("已办结", "resolved"), "rated": ("群众评价", "rated"), "rating_comment": ("群众意见", "comment"),
    "reopened": ("重新办理", "reopened"), "closed": ("结案", "closed"), "mutual_rating": ("双向评价", "mutual rating"),
    "not_ours": ("退回指挥中心", "returned to the command centre"), "warned": ("临期提醒", "deadline warning"),
    "lapsed": ("超时催办", "late: reminder sent"), "escalated": ("超时升级", "late: escalated"),
    "difficult": ("列为疑难件", "marked difficult"), "assigned": ("值班领导指定责任单位", "responsible unit assigned"),
    "extension_asked": ("申请延期", "extension asked"), "extended": ("批准延期", "extension approved"),
    "extension_refused": ("延期未获批准", "extension refused"),
    "withdrawn": ("报告人撤回", "withdrawn by the reporter"), "purged": ("照片按期删除", "photos deleted (retention)"),
    "placed": ("指挥中心定位", "placed by the command centre"), "media_failed": ("照片获取失败", "photo could not be fetched"),
}
BUTTONS = {
    "skip": ("跳过", "Skip"), "confirm": ("✅ 确认提交", "✅ Confirm"), "edit": ("✏️ 修改", "✏️ Edit"),
    "cancel": ("✖️ 取消", "✖️ Cancel"), "accept": ("接单", "Accept"), "yes": ("使用", "Use it"),
    "no": ("不用", "No"), "edit_photos": ("重发照片", "Replace photos"), "edit_place": ("重发位置", "Replace place"),
    "edit_details": ("重选类别", "Change category"), "send_location": ("📍 发送我的位置", "📍 Send my location"),
    "resolve": ("✅ 办结", "✅ Resolve"), "call": ("📣 呼叫部门", "📣 Call departments"),
    "not_ours": ("↩️ 非本辖区", "↩️ Not ours"), "answer": ("响应", "Answer"), "checkin": ("📍 报到", "📍 Check in"),
    "decline": ("不属于本部门", "Not ours"), "satisfied": ("满意", "Satisfied"), "mostly": ("基本满意", "Mostly"),
    "unsatisfied": ("不满意", "Not satisfied"), "good": ("好", "Good"), "fair": ("一般", "Fair"), "poor": ("差", "Poor"),
    "accurate": ("准确", "Accurate"), "inaccurate": ("不准确", "Not accurate"),
    "extend": ("⏳ 延期", "⏳ More time"), "dispute": ("有争议，提交疑难件", "Dispute: make it difficult"), "difficult": ("❗ 疑难件", "❗ Difficult"),
    "approve": ("批准", "Approve"), "refuse": ("不批准", "Refuse"),
    "e1h": ("延1小时", "+1 h"), "e4h": ("延4小时", "+4 h"), "e1wd": ("延1个工作日", "+1 working day"),
    "prev_page": ("◀ 上一页", "◀ Previous"), "next_page": ("下一页 ▶", "Next ▶"),
    "t30": ("30分钟内", "30 min"), "t60": ("1小时内", "1 h"), "t120": ("2小时内", "2 h"), "tam": ("下个工作日上午", "Next working morning"),
    "ttyped": ("✍️ 输入时间", "✍️ Type a time"),
}

BUTTONS.update(texts_security.BUTTONS)
EVENTS.update(texts_security.EVENTS)


def lang_of(language_code: str | None, default: str = "zh") -> str:
    """The bot speaks zh and en; any other language (or none) gets the configured default (issue 11)."""
    code = (language_code or "").lower()
    return "en" if code.startswith("en") else "zh" if code.startswith("zh") else default


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


class Html:
    """An argument that is already HTML (a mention we built): t() leaves it as it is."""

    def __init__(self, html: str):
        self.html = html

    def __format__(self, spec: str) -> str:
        return self.html


def mention(user_id: int, name: str) -> Html:
    return Html(f'<a href="tg://user?id={int(user_id)}">{escape(name)}</a>')


def t(key: str, lang: str, **args) -> str:
    """The text for `key`, with every string argument HTML-escaped."""
    safe = {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}
    return pick(TEXTS[key], lang).format(**safe)


def both(key: str, **args) -> str:
    """Group messages carry Chinese and English: members' languages differ."""
    return t(key, "zh", **args) + "\n" + t(key, "en", **args)


# ---- on site (到场): the street's own check-in and what a location can prove ----------------------------
TEXTS.update({
    "s_on_site": ("📍 {number}：{name} 已到场（距现场 {m} 米）。", "📍 {number}: {name} is on site ({m} m away)."),
    "n_street_on_site": ("您的诉求 {number}：街镇工作人员已到达现场。", "Your report {number}: the street's staff are on site."),
    "card_on_site": ("📍 已到场：{name}，{time}（{m} 米）", "📍 On site: {name} at {time} ({m} m)"),
    "ci_not_member": ("只有本案属地群的成员可以到场报到。", "Only members of this case's group can check in on site."),
    "ci_forwarded": ("转发的位置不能用于报到，请发送您自己当前的位置。", "A forwarded location does not count: send your own current location."),
    "ci_venue": ("从列表选择的地点不能用于报到，请发送您当前的位置。", "A place picked from a list does not count: send your current location."),
    "ci_not_live": ("报到须共享实时位置：📎→位置→共享实时位置。", "Check-in needs a live location: 📎 → Location → Share live location."),
    "ci_live_hint": ("（须共享实时位置，并在现场保持 1 分钟。）", "(Share your live location and stay on site for a minute.)"),
    "ci_live_wait": ("已收到实时位置（距现场 {m} 米）。请在现场保持共享 1 分钟，报到随后生效。", "Live location received ({m} m away). Keep sharing it on site for a minute; the check-in then counts."),
    "ci_live_left": ("报到未通过：1 分钟内实时位置离开现场（{m} 米，需在 {r} 米以内）。请回到现场重新共享。", "Check-in failed: within its first minute the live location left the site ({m} m; it must be within {r} m). Go back and share it again."),
    "t_onsite": ("⏱ 按本案到场时限（{time}）", "⏱ By the case's on-site deadline ({time})"),
    "ci_photo_ask": ("请先发一张现场照片，再发送位置。", "First send a photo taken on site, then your location."),
})
BUTTONS["on_site"] = ("📍 到场", "📍 On site")

# ---- verification before closing (核查结案) ---------------------------------------------------------------
TEXTS.update({
    "verify_card": ("🔎 核查 {number}\n类别：{category}\n街镇：{street}\n经办人：{handler}\n处置情况：{note}",
                    "🔎 Verify {number}\nCategory: {category}\nStreet: {street}\nHandler: {handler}\nWhat was done: {note}"),
    "n_verifying": ("您的诉求 {number} 已处置，网格员正在现场核查，核查后请您评价。", "Your report {number} has been dealt with; it is being verified on site, then you will be asked to rate it."),
    "resolved_verify": ("已办结，等待现场核查。", "Resolved; waiting for verification on site."),
    "s_verify_on_site": ("🔎 {number}：{name} 已到场核查（距现场 {m} 米）。", "🔎 {number}: {name} is on site to verify ({m} m away)."),
    "s_verified": ("✅ {number}：{name} 现场核查属实，已请群众评价。", "✅ {number}: {name} verified it on site; the citizen is asked to rate it."),
    "s_verify_failed": ("❌ {number}：{name} 现场核查未解决，已退回重办（记经办人 {handler}）。理由：{reason}", "❌ {number}: {name} found it not fixed on site; reopened (counted against handler {handler}). Why: {reason}"),
    "verify_need_on_site": ("请先点“到场核查”，在现场发送位置。", "First tap “On site” and send your location there."),
    "verify_over": ("这件诉求已不在核查中。", "This case is no longer awaiting verification."),
    "verified_tap": ("已确认属实。", "Confirmed."),
    "verify_failed_tap": ("已退回重办。", "Reopened."),
    "ask_verify_no": ("请回复本消息，说明 {number} 哪里未解决：", "Reply to this message: what is not fixed in {number}?"),
})
BUTTONS.update({"verify_on_site": ("📍 到场核查", "📍 On site"), "verify_done": ("✅ 属实", "✅ Done"),
                "verify_not_done": ("❌ 未解决", "❌ Not done")})
# ---- units without leaders --------------------------------------------------------------------------------
TEXTS.update({
    "dl_no_leader2": ("🔺 {number}：「{what}」超时 {minutes} 分钟；{unit} 未设分管领导，直接升级至下一级。", "🔺 {number}: {what} is {minutes} min late; {unit} has no deputy, so it goes on to the next level."),
    "dl_no_leader3": ("🔺 {number}：「{what}」超时 {minutes} 分钟；{unit} 未设主责领导，直接升级至下一级。", "🔺 {number}: {what} is {minutes} min late; {unit} has no chief, so it goes on to the next level."),
})

# ---- phone-backs (回访) -------------------------------------------------------------------------------------
TEXTS.update({
    "callback_usage": ("用法：/callback 编号 满意|基本满意|不满意 [备注]", "Usage: /callback NUMBER satisfied|mostly|unsatisfied [note]"),
    "callback_not_command": ("只有指挥中心成员可以记录回访。", "Only command centre members can record a phone-back."),
    "callback_saved": ("已记录 {number} 的电话回访。", "Phone-back for {number} recorded."),
})
EVENTS["callback"] = ("电话回访", "phone-back")
STATES["verifying"] = ("已办结，待核查", "resolved, awaiting verification")
LIMITS["verify"] = ("核查", "verify")
DEADLINE_WORDS["verify"] = ("现场核查", "verify on site")
EVENTS.update({"verify_on_site": ("到场核查", "on site to verify"), "verified": ("核查属实", "verified"),
               "verify_failed": ("核查未解决", "verification: not fixed")})
BUTTONS.update({"onsite_e1h": ("到场延1小时", "On site +1 h"), "onsite_e4h": ("到场延4小时", "On site +4 h"),
                "onsite_e1wd": ("到场延1个工作日", "On site +1 working day")})
EVENTS["on_site"] = ("街镇到场", "the street's staff on site")
