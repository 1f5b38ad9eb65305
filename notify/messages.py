"""The Chinese words of a notification, and cutting them to what a channel takes.

``render`` turns an outbox row into a headline and a text; each channel cuts
them with ``cut`` to its own limit, defined once below.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

WECOM_MARKDOWN_MAX_BYTES = 4096
"""A WeCom robot's markdown ``content``, in UTF-8 bytes."""
DINGTALK_MARKDOWN_MAX_BYTES = 20_000
"""A DingTalk robot's markdown ``text``, in UTF-8 bytes (its documented ~20000)."""
SMS_PARAM_MAX_CHARS = 20
"""One SMS template parameter, in characters (Aliyun and Tencent cap variables at ~20)."""
EMAIL_SUBJECT_MAX_CHARS = 200
ELLIPSIS = "…"
TIME_FORMAT = "%Y-%m-%d %H:%M"
LINK_LINE = "查看：{url}"
"""The text's last line; markdown channels show a link instead."""

LEVELS = {
    "publicity": "宣传哨",
    "emergency": "应急哨",
    "enforcement": "执法哨",
    "joint": "攻坚哨",
}
HEADLINES = {
    "dispatch": "新派单",
    "reminder": "催办",
    "supervision": "督办",
    "overdue": "超时未办",
    "return_review": "退单待审核",
    "return_refused": "退单未获批准",
    "extension_review": "延期待审核",
    "plan": "联合方案任务",
    "redo": "要求重办",
    "withdrawn": "已撤出案件",
    "lead": "由你牵头",
    "joint_meeting": "请召开联席会议",
    "confirm": "结果待确认",
    "delivery_failed": "通知发送失败",
}
"""Each kind the outbox holds, in a few words."""
WORDING = {
    "dispatch": "你单位被吹哨，请按时报到并处置。",
    "reminder": "期限将至，请抓紧办理。",
    "supervision": "街道对本案督办，请立即办理并反馈。",
    "overdue": "本案有单位超时未办，请街道督办。",
    "return_review": "有单位申请退单，请审核。",
    "return_refused": "你单位的退单申请未获批准，原期限不变。",
    "extension_review": "有单位申请延期，请审核。",
    "plan": "你单位有联合方案任务，请按期完成。",
    "redo": "办理结果被退回，请重新办理。",
    "withdrawn": "你单位已不再承办本案，无需继续办理。",
    "lead": "你单位现为本案牵头单位。",
    "joint_meeting": "本案需要召开联席会议，请街道组织。",
    "confirm": "有办理结果待确认，请党支部确认。",
    "delivery_failed": "一条通知多次发送失败，请人工联系承办单位。",
}
"""What a kind asks of its reader; a kind without wording shows the outbox's own note."""
NOTED = frozenset(
    {"supervision", "redo", "joint_meeting", "plan", "return_review", "return_refused"}
)
"""Kinds whose outbox note carries a person's words (a station's note, a redo's
reason, a task): shown as well, so they reach the reader."""
_OTHER = "通知"


def level_name(level: str) -> str:
    """The whistle's Chinese name (应急哨); an unknown level as it is."""
    return LEVELS.get(level, level)


def headline(kind: str) -> str:
    return HEADLINES.get(kind, _OTHER)


def title_prefix(kind: str, level: str) -> str:
    """What every title of this kind and level starts with, before the case's title."""
    return f"【{level_name(level)}】{headline(kind)}："


def _span(minutes: int) -> str:
    if minutes < 1:
        return "不到 1 分钟"
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} 天" + (f" {hours} 小时" if hours else "")


def time_left(deadline: datetime, now: datetime) -> str:
    """还剩 25 分钟 or 已超时 2 小时, in whole minutes rounded down."""
    seconds = (deadline - now).total_seconds()
    words = _span(int(abs(seconds) // 60))
    return f"还剩 {words}" if seconds >= 0 else f"已超时 {words}"


def local_time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime(TIME_FORMAT)


def render(
    kind: str,
    level: str,
    case_title: str,
    case_id: str,
    message: str,
    deadline: datetime | None,
    now: datetime,
    zone: tzinfo,
    url: str,
    queued_at: datetime | None = None,
) -> tuple[str, str]:
    """The (title, text) of a notification, in Chinese, times in ``zone``; the time
    left counts from ``now``, the time shown is when it was queued (else now)."""
    title = f"{title_prefix(kind, level)}{case_title}"
    lines = [f"案件：{case_title}（{case_id}）"]
    wording = WORDING.get(kind)
    if wording is not None:
        lines.append(wording)
    if deadline is not None:
        lines.append(f"期限：{local_time(deadline, zone)}（{time_left(deadline, now)}）")
    lines.append(f"时间：{local_time(queued_at or now, zone)}")
    if (wording is None or kind in NOTED) and message.strip():
        lines.append(f"说明：{message.strip()}")
    lines.append(LINK_LINE.format(url=url))
    return title, "\n".join(lines)


def cut(text: str, limit: int, *, count_bytes: bool = False) -> str:
    """``text`` if it fits ``limit`` (characters, or UTF-8 bytes), else cut to end with "…"."""
    size = len(text.encode()) if count_bytes else len(text)
    if size <= limit:
        return text
    if not count_bytes:
        return text[: max(limit - 1, 0)] + ELLIPSIS
    room = limit - len(ELLIPSIS.encode())
    # Dropping a partial character at the cut keeps the bytes valid UTF-8.
    return text.encode()[: max(room, 0)].decode(errors="ignore") + ELLIPSIS
