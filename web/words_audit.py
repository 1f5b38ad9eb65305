"""The auditor's words (search, a case's audit, the assessment, the spreadsheets),
in Chinese and English; ``web.words`` holds them with every other word."""

from __future__ import annotations

AUDIT_WORDS: dict[str, tuple[str, str]] = {
    # --- the search
    "audit.title": ("案件检索", "Search the cases"),
    "audit.filters": ("筛选条件", "Filters"),
    "audit.any": ("全部", "Any"),
    "audit.overdue": ("是否超期", "Overdue"),
    "audit.overdue.yes": ("已超期", "Overdue only"),
    "audit.overdue.no": ("未超期", "Not overdue"),
    "audit.search": ("检索", "Search"),
    "audit.results": ("检索结果（{n} 件）", "Results ({n})"),
    "audit.more": ("下一页", "Next page"),
    "audit.fix_filters": ("请更正筛选条件。", "Please correct the filters."),
    # --- one case, for the auditor
    "audit.case": ("审计核查", "Audit"),
    "audit.timeline": ("办理经过明细", "The timeline in detail"),
    "audit.level": ("当时哨级", "Whistle then"),
    "audit.deadline_in_force": ("当时期限", "Deadline in force"),
    "audit.ledger": ("台账校验", "Ledger check"),
    "audit.ledger.ok": (
        "台账完整：{n} 条记录的哈希链无误",
        "Ledger intact: {n} events, hash chain holds",
    ),
    "audit.ledger.bad": ("台账被改动：{problem}", "Ledger broken: {problem}"),
    "audit.ledger.unprojected": (
        "台账尚未生成：本案刚刚发起，办理记录尚未写入台账，请稍后再查",
        "Not yet projected: the case was raised a moment ago and its events have not "
        "reached the ledger yet; check again shortly",
    ),
    "audit.ledger.archived": (
        "已归档，归档记录与台账一致",
        "archived; the archive matches the ledger",
    ),
    "audit.replay": ("重放校验", "Replay check"),
    "audit.replay.ok": ("重放一致", "Replay matches"),
    "audit.replay.bad": ("重放不一致：{failure}", "Replay differs: {failure}"),
    "audit.replay.source.temporal": ("历史取自案件引擎", "history from the case engine"),
    "audit.replay.source.archive": (
        "案件引擎已不保存该历史，取自归档",
        "the case engine no longer holds it: history from the archive",
    ),
    "audit.replay.missing": (
        "案件引擎和归档中都没有该案历史，无法重放。",
        "Neither the case engine nor the archive holds this case's history: no replay.",
    ),
    "audit.replay.unavailable": (
        "案件引擎暂时不可用，无法取得历史重放。",
        "The case engine is not reachable: the history cannot be fetched for a replay.",
    ),
    "audit.replay.ledger_ok": ("历史与台账一致", "the history matches the ledger"),
    "audit.replay.ledger_bad": ("历史与台账不一致：", "the history differs from the ledger:"),
    "audit.download": ("下载", "Download"),
    "audit.download.ledger": ("案件台账（Excel）", "Case ledger (Excel)"),
    "audit.deadline.deadline": ("期限", "deadline"),
    "audit.deadline.review": ("审核期限", "review deadline"),
    # --- the assessment
    "audit.assessment": ("考核统计", "Assessment"),
    "audit.quarter": ("季度（如 2026Q4）", "Quarter (e.g. 2026Q4)"),
    "audit.show": ("查看", "Show"),
    "audit.rate.response": ("响应率", "Response rate"),
    "audit.rate.resolution": ("解决率", "Resolution rate"),
    "audit.rate.satisfaction": ("满意率", "Satisfaction rate"),
    "audit.rates_by_unit": ("{quarter} 各单位三率", "{quarter}: the three rates by unit"),
    "audit.rates_by_quarter": ("近四个季度全区三率", "The three rates over the last four quarters"),
    "audit.whistles_by_compound": ("{quarter} 各小区吹哨数", "{quarter}: whistles per compound"),
    "audit.escalations_by_level": (
        "{quarter} 升级次数（按升至哨级）",
        "{quarter}: escalations by the whistle reached",
    ),
    "audit.whistles_per_compound": ("平均每小区吹哨 {n} 次", "{n} whistles per compound"),
    "audit.unit": ("单位", "Unit"),
    "audit.kind": ("类别", "Kind"),
    "audit.quarter_col": ("季度", "Quarter"),
    "audit.cases": ("案件数", "Cases"),
    "audit.dispatches": ("派单数", "Dispatches"),
    "audit.escalations": ("升级次数", "Escalations"),
    "audit.score": ("得分", "Score"),
    "audit.rank": ("名次", "Rank"),
    "audit.none": ("本期暂无数据。", "Nothing in this period."),
    "audit.data": ("数据表", "The figures"),
    "audit.chart_desc": ("{title}：{items}", "{title}: {items}"),
    "audit.red": ("红榜", "Red list"),
    "audit.black": ("黑榜", "Black list"),
    "audit.lists": ("{quarter} 红黑榜", "{quarter}: red and black lists"),
    "audit.list_kind": ("{kind} 类单位", "{kind} units"),
    "audit.left_out": ("未参评单位", "Units not ranked"),
    "audit.left_out.few": ("派单少于 {n} 次", "fewer than {n} dispatches"),
    "audit.left_out.no_rate": ("尚无可计分的比率", "no rate to score yet"),
    "audit.formula": (
        "得分为响应率（按时报到数 / 应报到数）、解决率（支部确认解决的案件 / 已结束案件）与"
        "满意率（4 或 5 分的评价 / 评价数）的平均值；无可计数的比率不计入平均；"
        "同分按单位代码排序。至少派单 {n} 次的单位参评。",
        "Score: the mean of the response rate (report-ins on time / report-ins due), the "
        "resolution rate (cases the branch confirmed / ended cases) and the satisfaction rate "
        "(scores of 4 or 5 / scores); a rate with nothing to count is left out; equal scores "
        "go by unit code. Units with at least {n} dispatches are ranked.",
    ),
    "audit.download.assessment": ("考核统计（Excel）", "Assessment (Excel)"),
    "audit.bad_quarter": ("须形如 2026Q4", "must look like 2026Q4"),
    # --- the spreadsheets (their headers and sheets are Chinese whatever the page says)
    "audit.sheet.rates": ("各单位三率", "Rates by unit"),
    "audit.sheet.lists": ("红黑榜", "Red and black lists"),
    "audit.sheet.ledger": ("案件台账", "Case ledger"),
}
