"""Texts of issue 11 (binding, unbinding, revoking, taking a case over), merged into ui/texts.py's tables."""

TEXTS = {
    "bad_code": ("绑定码无效、已使用或已过期。", "That code is unknown, used or expired."),
    "bind_throttled": ("尝试次数过多，请一小时后再试。", "Too many wrong codes: try again in an hour."),
    "bind_admin_only": ("只有群主或管理员可以绑定本群。", "Only the group's creator or an administrator can bind it."),
    "rebind_no_command": ("{name} 已绑定其他群；改绑需要指挥中心确认，但尚未配置指挥中心。",
                          "That unit already has a group; moving it needs the command centre, which is not set up."),
    "rebind_asked": ("⏳ {name} 已绑定其他群。改绑到本群需要指挥中心确认，确认后会通知本群。",
                     "⏳ {name} already has a group. Moving it here needs the command centre's confirmation; "
                     "this group will be told."),
    "rebind_request": ("⚠️ 改绑申请：{name} 由群 {old} 改到群 {title}（{chat}），申请人 {user}。确认吗？",
                       "⚠️ Rebind request: {name} from group {old} to group {title} ({chat}), asked by {user}. "
                       "Confirm?"),
    "rebind_old_group": ("ℹ️ 指挥中心已确认：{name} 今后改用群 {chat}，本群不再收到其诉求卡片。",
                         "ℹ️ Confirmed by the command centre: {name} now uses group {chat}; this group gets no more "
                         "of its cards."),
    "rebind_refused": ("❌ 指挥中心未同意把 {name} 改绑到本群。", "❌ The command centre refused moving {name} to this group."),
    "rebind_done": ("✅ 已确认：{name} 由群 {old} 改绑到群 {chat}。", "✅ Confirmed: {name} moved from group {old} to {chat}."),
    "rebind_refused_cc": ("已拒绝：{name} 仍使用群 {old}。", "Refused: {name} stays with group {old}."),
    "rebind_confirmed": ("已确认。", "Confirmed."),
    "rebind_declined": ("已拒绝。", "Refused."),
    "command_only": ("此命令只能在指挥中心群使用。", "Use this command in the command centre's group."),
    "unbind_usage": ("用法：/unbind street|department|grid 名称", "Usage: /unbind street|department|grid NAME"),
    "unbind_unknown": ("配置中没有这个单位。", "No such unit in the config."),
    "unbound": ("✅ 已解绑：{name} 暂无群组，需重新 /bind。", "✅ Unbound: {name} has no group until a new /bind."),
    "unbound_old_group": ("ℹ️ 指挥中心已解绑本群与 {name}，本群不再收到其诉求卡片。",
                          "ℹ️ The command centre unbound this group from {name}: no more of its cards here."),
    "revoke_usage": ("用法：/revoke 用户ID（撤销网格员）", "Usage: /revoke USER_ID (revoke a grid worker)"),
    "not_a_worker": ("此用户不是（或已不是）网格员。", "That user is not (or no longer) a grid worker."),
    "worker_revoked": ("✅ 已撤销网格员 {user}（{grid}）：不再享有快速上报。",
                       "✅ Grid worker {user} ({grid}) revoked: no more fast reports."),
}
BUTTONS = {"rebind_yes": ("✅ 确认改绑", "✅ Confirm"), "rebind_no": ("❌ 拒绝", "❌ Refuse")}

# Who may act on an accepted case
TEXTS.update({
    "handler_only": ("本件由经办人 {name} 办理，只有经办人或群管理员可以操作。如需接手，请点群里的「接手」。", "{name} handles this case: only the handler or a group administrator can act. To take it over, use 'Take over' in the group."),
    "offer_take_over": ("{user}：{number} 由 {name} 办理。如需接手，请点下方「接手」（会记录并通知 {name}）。", "{user}: {number} is handled by {name}. To take it over, tap below (it is traced and {name} is told)."),
    "taken_over": ("已接手，您是经办人。", "Taken over: you are the handler."),
    "taken_over_notice": ("🔄 {number} 已由 {by} 接手；原经办人 {name}。", "🔄 {number} was taken over by {by}; previous handler {name}."),
    "already_handler": ("您已经是经办人。", "You are already the handler."),
    "not_your_button": ("这个按钮是给别人的。", "This button is someone else's."),
    "prompt_not_yours": ("只有被询问的人（或群管理员）可以回复这个问题。", "Only the person asked (or a group administrator) can answer this."),
})
BUTTONS["take_over"] = ("接手", "Take over")
EVENTS = {"taken_over": ("接手", "taken over")}
