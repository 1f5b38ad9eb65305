"""The rules' messages in Chinese.

The rules speak English where they are defined (``models.rules`` and friends,
also read by the API and the CLI); the workbench words the common ones in
Chinese by pattern here, and shows any other as the rule gave it, so a new
rule is never hidden, only untranslated.

``_TABLE`` holds one line per rule, ``pattern => wording``, most specific
first (the first that matches words the message). A wording takes the
pattern's groups as ``\\1`` or ``\\g<name>``; a *named* group's value is worded
too: a span (``dur``, ``cap``: 3wd -> 3 个工作日), a message inside the message
(``why``), or else a status, whistle level, outcome, kind of principal or what
was refused (``VALUES``). ``{field}`` stands for the field the message starts
with ("title: ..." -> 标题), or for nothing when the message comes without it
(the workbench shows it next to its field then).
"""

from __future__ import annotations

import re

_TABLE = r"""
# -- reasons the workflow itself records on the timeline (workflows/)
^the branch requested a joint meeting: (.*)$ => 支部申请召开联席会议：\1
^returned (\d+) times: responsibilities overlap$ => 已退单 \1 次：职责交叉
^every department returned the case$ => 各单位均已退单
^the new lead department had signed off unresolved$ => 新的牵头单位已签收为未解决
^report-in deadline missed by (.*)$ => \1 超时未报到
^resolve deadline missed$ => 超时未办结
^joint plan overdue$ => 联席会议方案超期
^report-in due$ => 报到期限将至
^joint meeting due$ => 联席会议期限将至
^return review due$ => 退单审核期限将至
^resolution due$ => 办结期限将至
# -- the case as a whole
was never opened: (?P<why>.*)$ => 本案未能立案：\g<why>
(\S+) is (?P<st>closed|withdrawn); no more actions => 案件 \1 \g<st>，不能再办理
its record is full \((\d+) KiB of events\) => 本案记录已满（\1 KiB），只能确认或撤回；其余事项请另行吹哨
Idempotency-Key: '([^']*)' already raised case (\S+) with a different => 请求编号“\1”已用于案件 \2，但内容不同
'([^']*)' was already used for a different action => 操作编号“\1”已用于另一项操作
# -- who is on the case
'([^']*)' is not assigned to case (\S+) => 单位“\1”不是案件 \2 的承办单位
'([^']*)' was replaced on case (\S+) by the station => 单位“\1”已被街道工作站改派出案件 \2
'([^']*)' returned case (\S+) and has left it => 单位“\1”已退单，不再承办案件 \2
'([^']*)' was replaced on this case by the station => 单位“\1”已被街道工作站改派出本案
'([^']*)' is already on the case => 单位“\1”已在本案中
'([^']*)' has left this case; it is not sent back => 单位“\1”已退出本案，不能再派回
# -- report in (报到), sign off (签收办结), return (退单)
'([^']*)' has already reported in at the (?P<lv>\w+) whistle => 单位“\1”已在\g<lv>报到
'([^']*)' has already signed off \((?P<oc>[\w-]+)\) at the (?P<lv>\w+) whistle => 单位“\1”已在\g<lv>签收办结（\g<oc>）
'([^']*)' has already signed off => 单位“\1”已签收办结
'([^']*)' must report in before signing off => 单位“\1”须先报到，才能签收办结
'([^']*)' must report in before asking for more time => 单位“\1”须先报到，才能申请延期
'([^']*)' is not in the joint meeting's plan => 单位“\1”不在联席会议议定的方案中
joint meeting has not agreed a plan yet => 联席会议尚未议定方案；签收办结须按方案进行
not-ours is not accepted at the joint task force => 攻坚哨不能退单：联席会议议定的方案对各单位均有约束
a not-ours sign-off needs a reason code, one of: (.*); got (.+)$ => 退单须选择理由代码（\1）；现为 \2
a return is accepted within (?P<dur>\S+) of dispatch; '([^']*)' was dispatched at (\S+) => 退单须在派单后 \g<dur>内提出；单位“\2”的派单时间为 \3
'([^']*)' has a return awaiting the station's review => 单位“\1”的退单申请正待街道工作站审核
at the emergency whistle a unit comes on site first => 应急哨须先到场：请先报到，再申请退单；街道工作站审核期间仍须在场处置
'([^']*)' has no return awaiting review => 单位“\1”没有待审核的退单申请
returns are reviewed while the case is handled; it is (?P<st>\w+) => 只能在办理期间审核退单；本案当前\g<st>
names the unit to send instead; only with an approval => 同意退单时才能指定改派单位
# -- the branch: escalate, confirm, redo (重办), ask for a joint meeting
the case awaits the branch's confirmation => 本案正等待社区党支部确认
awaits confirmation; reopen it instead of escalating => 本案正待确认；如未办好，请要求重办，不必升级哨级
awaits confirmation; reopen it instead => 本案正待确认；如未办好，请要求重办
the case is at the joint task force, the highest whistle => 本案已在攻坚哨，是最高哨级
must be a whole number from (\d+) to (\d+); got (.+)$ => {field}须为 \1 到 \2 的整数；现为 \3
the case is (?P<st>\w+); only a resolved case awaiting confirmation => 本案当前\g<st>；只有办结后待确认的案件才能确认或要求重办
the joint meeting has agreed a plan; ask the station to supervise => 联席会议已议定方案；如推进不力，请街道工作站督办
# -- extensions (延期)
an extension is asked while the case is being handled; it is (?P<st>\w+) => 只能在办理期间申请延期；本案当前\g<st>
an extension is decided while the case is being handled; it is (?P<st>\w+) => 只能在办理期间审批延期；本案当前\g<st>
'([^']*)' already has an extension request pending => 单位“\1”已有一项延期申请待审批
'([^']*)' has no extension request pending => 单位“\1”没有待审批的延期申请
a refusal needs a reason => 不同意时须写明理由
total extension at the (?P<lv>\w+) whistle would be (?P<dur>\S+), over the policy's cap of (?P<cap>\S+) => \g<lv>累计延期将达 \g<dur>，超过政策上限 \g<cap>
working days stand alone, from 1 to (\d+)wd => {field}按工作日计须单独填写，且在 1 到 \1 个工作日之间
working days stand alone, such as 3wd, not mixed with other units; got (.+)$ => 工作日须单独填写（如 3wd），不能与其他时间单位混用；现为 \1
working days are accepted where deadlines are; .*; got (.+)$ => 此处不能按工作日计，请填写时长，如 30m、2h 或 5d；现为 \1
must be a duration such as 30m, 2h or 5d, or working days such as 3wd; got (.+)$ => {field}须为时长（如 30m、2h、5d）或工作日（如 3wd）；现为 \1
must be a duration such as 10s, 30m, 2h or 5d; got (.+)$ => {field}须为时长，如 10s、30m、2h 或 5d；现为 \1
must be longer than zero and at most (?P<dur>\w+) => {field}须大于零，且不超过 \g<dur>
must be longer than zero; got (.+)$ => {field}须大于零；现为 \1
# -- the joint meeting (联席会议) and the station's re-dispatch (改派)
a joint meeting is held at the joint task force; the case is at (?P<lv>\w+) => 联席会议在攻坚哨召开；本案当前为\g<lv>
the case is (?P<st>\w+), not awaiting a joint meeting => 本案当前\g<st>，不在待召开联席会议阶段
'([^']*)' must be among the attendees => 牵头单位“\1”须为参会单位
'([^']*)' is not among the attendees => 单位“\1”不是参会单位，不能分派任务
'([^']*)' is neither on the case nor a department of the policy => 单位“\1”既不在本案中，也不是政策所列部门；新单位请列入“新加入单位”
at most (\d+) characters for the whole plan; got (\d+) => 方案各项任务合计最多 \1 字；现为 \2 字
units are re-dispatched while the case is handled; it is (?P<st>\w+) => 只能在办理期间改派；本案当前\g<st>
name at least one unit to dispatch => 请至少指定一个派往单位
a case holds at most (\d+) units => 一个案件最多派 \1 个单位
at most (\d+) (?:units|departments)$ => {field}最多 \1 个单位
a (?:unit|department) is named twice => 同一单位重复填写
# -- raising a whistle (吹哨)
'([^']*)' has no routing in policy (\S+); name the departments or use one of: (.*)$ => 问题类别“\1”在政策 \2 中没有对应的派单单位；请指定单位，或选用：\3
unit '([^']*)' is of unknown department kind '([^']*)'; known: (.*)$ => 单位“\1”的部门类别“\2”不在政策中；可选：\3
unknown department '([^']*)'; known: (.*)$ => 未知单位“\1”；可选：\2
'([^']*)' is not a compound of the organisation ([^\s;]+) => “\1”不是组织架构 \2 中的小区，请按小区编码填写
'([^']*)' is not a unit of the organisation (\S+) => “\1”不是组织架构 \2 中的单位
'([^']*)' is not a street of the organisation ([^\s;]+) => “\1”不是组织架构 \2 中的街道
no (\w+) unit's jurisdiction covers (.+) \((.*)\); add one => 没有负责“\2”（\3）的 \1 类单位；请在组织架构中补充
must be one of (.*); got (.+)$ => {field}须为以下之一：\1；现为 \2
must be one of (.*)$ => {field}须为以下之一：\1
unknown department kind '([^']*)'; known: (.*)$ => 未知的部门类别“\1”；可选：\2
give one kind or ask for each kind, not both => 部门类别只能指定一个，或选择按类别分别排名，二者不能同时
a code is lower-case letters, digits and _, starting with a letter \(at most (\d+)\); got (.+)$ => {field}编码须由小写字母、数字和下划线组成，以字母开头，最多 \1 个字符；现为 \2
# -- text
must not be empty => {field}不能为空
must be at most (\d+) characters; got (\d+) => {field}最多 \1 字；现为 \2 字
must not contain spaces or control characters => {field}不能含空格或控制字符
must not contain control characters => {field}不能含控制字符
# -- evidence (佐证材料) and uploads
at most (\d+) references; got (\d+) => {field}最多 \1 项；现为 \2 项
must be 64 lowercase hex digits => {field}须为 64 位小写十六进制数字（SHA-256）
a file of whistle's store is named by its SHA-256 => 本系统存储的文件须以其 SHA-256 命名
the same file is referenced twice => 同一文件引用了两次
is not a valid URL => {field}不是有效的网址
must be an https:// address with a host or (\S+) => {field}须为 https:// 网址或本系统文件地址 \1
must not carry credentials => {field}不能包含用户名或密码
must be URL#sha256=HEX; got (.+)$ => {field}须写成“网址#sha256=校验值”；现为 \1
the file is empty => {field}文件是空的
at most (\d+) MiB per file; got ([\d.]+) MiB => 每个文件最大 \1 MB；该文件为 \2 MB
at most (\d+) files; got (\d+) => {field}最多上传 \1 个文件；现为 \2 个
only JPEG, PNG, WebP photos and PDF documents are accepted => 只接受 JPEG、PNG、WebP 格式的照片和 PDF 文件
# -- sign-in, and the board's periods
must be (\d+) to (\d+) characters; got (\d+) => {field}须为 \1 到 \2 个字符；现为 \3 个
no principal '([^']*)' => 没有账号“\1”
must look like 2026Q4; got (.+)$ => {field}须写成 2026Q4 的形式；现为 \1
the year must be between (\d+) and (\d+); got (-?\d+) => {field}的年份须在 \1 至 \2 之间；现为 \3
give a quarter or from/to, not both => 请给出季度或起止时间，二者只能选一
not a cursor of this list => 翻页参数无效：请从页面上的“下一页”继续
must be a day such as (\S+) or a time such as (\S+); got (.+)$ => {field}须为日期（如 \1）或时间（如 \2）；现为 \3
must be after from => 截止时间须晚于起始时间
# -- who may act (api.access)
only a (?P<kd>\w+) may (?P<do>.+); you are (?P<who>\w+):(\S+)$ => 只有\g<kd>才能\g<do>；您当前登录的是\g<who>账号“\4”
only auditors and admins (?P<do>.+); you are (?P<who>\w+):(\S+)$ => 只有审计人员和管理员才能\g<do>；您当前登录的是\g<who>账号“\3”
(?:\w+:)?(\S+) acts only for department '([^']*)' => 本账号（\1）只能以本单位“\2”的身份办理
(?:\w+:)?(\S+) is the station of street '([^']*)'; compound '([^']*)' is not in it => 您是街道“\2”的工作站，小区“\3”不在本街道
no organisation is in force, so no street holds compound '([^']*)' => 组织架构尚未启用，无法确定小区“\1”所属街道；请联系管理员
no organisation is in force => 组织架构尚未启用；请联系管理员
(?:\w+:)?(\S+) does not speak for compound '([^']*)' => 本账号（\1）不负责小区“\2”
(?:\w+:)?(\S+) reads the board of street '([^']*)' only => 您只能查看街道“\2”的看板
"""

# (pattern of the English message, its Chinese wording with the groups).
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for line in _TABLE.strip().splitlines()
    if not line.startswith("#")
    for pattern, words in [line.split(" => ")]
)

_PAIRS = """
awaiting_report_in 为待报到  in_progress 为处置中  joint_meeting 为待召开联席会议
awaiting_confirmation 为待确认  closed 已办结  withdrawn 已撤回
publicity 宣传哨  emergency 应急哨  enforcement 执法哨  joint 攻坚哨
resolved 已解决  unresolved 未解决  not-ours 退单
branch 社区党支部  department 职能单位  station 街道工作站  auditor 审计人员  admin 管理员
"""
_DOINGS = """
request a joint meeting = 申请召开联席会议
escalate = 升级哨级
confirm a result = 确认办理结果
reopen a case = 要求重办
withdraw a whistle = 撤回吹哨
raise a whistle = 吹哨
act for a department = 以单位身份办理
hold a joint meeting = 召开联席会议
decide an extension = 审批延期
review a return = 审核退单
re-dispatch a case = 改派案件
supervise a case = 督办案件
read the assessment = 查看考核
read the overdue board of any street = 查看各街道的超期看板
change the policy = 修改政策
list principals = 查看账号
add principals = 添加账号
issue tokens = 签发令牌
revoke tokens = 吊销令牌
read the branch's page = 打开党支部页面
read a unit's inbox = 打开单位待办
read the station's page = 打开街道工作站页面
search every case = 检索全部案件
audit a case = 审计核查案件
export a case's ledger = 导出案件台账
send evidence with this action = 随此操作上传材料
set passwords = 设置密码
"""
_FIELDS = """
title 标题  description 情况描述  location 地点  compound 小区  category 问题类别
level 哨级  departments 派往单位  units 派往单位  evidence 佐证材料  photos 照片
files 附件  note 说明  reason 理由  outcome 办理结果  by 延期时长  deadline 完成期限
decision 会议决定  lead 牵头单位  attendees 参会单位  join 新加入单位  tasks 任务
add 增派单位  replace 被替换单位  dispatch 改派单位  satisfaction 满意度  password 密码
new_password 新密码  name 账号  department 单位  street 街道  url 链接  sha256 校验值
label 说明  from 起始时间  to 截止时间  quarter 季度  actor 经办人  action_id 操作编号
raised_by 吹哨人  expires_in 有效期  kind 账号类型  compounds 小区
"""


def _pairs(text: str) -> dict[str, str]:
    words = text.split()
    return dict(zip(words[::2], words[1::2], strict=True))


VALUES: dict[str, str] = _pairs(_PAIRS) | dict(
    line.split(" = ") for line in _DOINGS.strip().splitlines()
)
"""A named group's value as the workbench words it."""
FIELDS: dict[str, str] = _pairs(_FIELDS)
"""A field (of the message's "field: " start) as the workbench words it."""

_HEAD = re.compile(r"^([A-Za-z_-]+)(?:\[(\d+)\])?(?:\.([\w-]+))?: ")
_REF = re.compile(r"\\(\d+)|\\g<(\w+)>|\{field\}")
_SPAN = re.compile(r"(\d+)(wd|d|h|m|s)")
_SPAN_WHOLE = re.compile(r"(?:\d+(?:wd|d|h|m|s))+")
_SPAN_UNITS = {"wd": "个工作日", "d": "天", "h": "小时", "m": "分钟", "s": "秒"}


def _span(text: str) -> str:
    """3wd -> 3 个工作日, 1d2h -> 1 天 2 小时; anything else as it is."""
    if not _SPAN_WHOLE.fullmatch(text):
        return text
    return " ".join(f"{n} {_SPAN_UNITS[unit]}" for n, unit in _SPAN.findall(text))


def _field(message: str, start: int) -> str:
    """The Chinese name of the field ``message`` starts with, if before ``start``."""
    head = _HEAD.match(message)
    if head is None or head.end() > start:
        return ""
    name, index, part = head.groups()
    words = FIELDS.get(name, f"“{name}”")
    if index is not None:
        words += f"第 {int(index) + 1} 项"
    if part:
        words += f"的{FIELDS[part]}" if part in FIELDS else f"（{part}）"
    return words


def _fill(found: re.Match[str], words: str, field: str) -> str:
    """``words`` with the groups of ``found`` and ``{field}`` filled in."""
    names = {index: name for name, index in found.re.groupindex.items()}

    def one(ref: re.Match[str]) -> str:
        if ref.group(0) == "{field}":
            return field
        key = ref.group(1) or ref.group(2)
        index = int(key) if key.isdigit() else found.re.groupindex[key]
        value = found.group(index) or ""
        name = names.get(index)
        if name == "why":
            return rule_in(value, "zh-CN")
        if name in ("dur", "cap"):
            return _span(value)
        return VALUES.get(value, value) if name else value

    return _REF.sub(one, words)


def rule_in(message: str, lang: str) -> str:
    if lang != "zh-CN":
        return message
    for pattern, words in PATTERNS:
        found = pattern.search(message)
        if found:
            return _fill(found, words, _field(message, found.start()))
    return message
