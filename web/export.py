"""Spreadsheets for auditors (openpyxl): a case's ledger, and a quarter's
assessment. Headers are Chinese, as the offices that file them read them.

Text from cases (titles, reasons, notes) is stored as text, never as a formula,
whatever it starts with; characters a spreadsheet cannot hold are dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from api.responses import RankedLists, RedBlack, StatsRow
from audit.ranking import RANKED_RATES
from models.ledger import GENESIS
from models.tables import CaseEventRecord
from store.reads import utc
from web.audit_words import left_out_why, zh
from web.i18n import DEFAULT_LANG, say

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT = "0.0%"
TIME = "yyyy-mm-dd hh:mm:ss"

RATE_WORDS = {
    "response_rate": "audit.rate.response",
    "resolution_rate": "audit.rate.resolution",
    "satisfaction_rate": "audit.rate.satisfaction",
}


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _append(sheet: Worksheet, values: Sequence[Any], formats: dict[int, str] | None = None) -> None:
    sheet.append([_cell(v) for v in values])
    for n, cell in enumerate(sheet[sheet.max_row]):
        if cell.data_type == "f":  # openpyxl takes "=..." for a formula: keep it text
            cell.data_type = "s"
        if formats and n in formats and cell.value is not None:
            cell.number_format = formats[n]


def _header(sheet: Worksheet, names: Iterable[str]) -> None:
    sheet.append(list(names))
    sheet.freeze_panes = "A2"


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def local_naive(when: datetime, zone: tzinfo) -> datetime:
    """A time in the district's zone, without its offset (a spreadsheet holds none)."""
    moment = utc(when)
    assert moment is not None
    return moment.astimezone(zone).replace(tzinfo=None)


LEDGER_HEADERS = (
    "序号",
    "事项",
    "事项代码",
    "时间",
    "操作人",
    "哨级",
    "单位",
    "原哨级",
    "升至哨级",
    "理由",
    "详情（JSON）",
    "哈希",
    "前一哈希",
)


def ledger_workbook(case_id: str, rows: Sequence[CaseEventRecord], zone: tzinfo) -> bytes:
    """Every event of the case's ledger, in order, with its hash and the one before."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = zh("audit.sheet.ledger")
    headers = list(LEDGER_HEADERS)
    headers[3] = f"时间（{zone}）"
    _header(sheet, headers)
    previous = GENESIS
    for row in rows:
        _append(
            sheet,
            [
                row.seq,
                say(f"event.{row.kind}", DEFAULT_LANG),
                row.kind,
                local_naive(row.at, zone),
                row.actor,
                say(f"level.{row.level}", DEFAULT_LANG),
                row.department or "",
                row.from_level or "",
                row.to_level or "",
                row.reason or "",
                row.detail,
                row.hash,
                previous,
            ],
            {3: TIME},
        )
        previous = row.hash
    for letter, width in {"B": 14, "D": 20, "E": 26, "J": 30, "K": 60, "L": 66, "M": 66}.items():
        sheet.column_dimensions[letter].width = width
    sheet.sheet_properties.tabColor = "B3261E"
    book.properties.title = f"{zh('audit.sheet.ledger')} {case_id}"
    return _bytes(book)


def _rates(row: Any) -> list[Any]:
    return [getattr(row, rate) for rate in RANKED_RATES]


def assessment_workbook(
    quarter: str, units: dict[str, StatsRow], lists: RedBlack, names: Mapping[str, str]
) -> bytes:
    """Two sheets: the three rates of each unit, and the red and black lists; ``names``
    gives units their names in the organisation in force (else the code again)."""
    book = Workbook()
    rates = book.active
    assert rates is not None
    rates.title = zh("audit.sheet.rates")
    _header(
        rates,
        [
            "季度",
            "单位",
            "单位名称",
            "类别",
            "案件数",
            "派单数",
            "响应率",
            "响应样本",
            "解决率",
            "解决样本",
            "满意率",
            "满意样本",
        ],
    )
    for name, row in units.items():
        _append(
            rates,
            [
                quarter,
                name,
                names.get(name, name),
                row.kind or "",
                row.cases,
                row.dispatches,
                row.response_rate,
                row.response_units,
                row.resolution_rate,
                row.resolution_units,
                row.satisfaction_rate,
                row.satisfaction_units,
            ],
            {6: PERCENT, 8: PERCENT, 10: PERCENT},
        )
    ranked = book.create_sheet(zh("audit.sheet.lists"))
    _header(
        ranked,
        [
            "季度",
            "榜单",
            "名次",
            "单位",
            "类别",
            "得分",
            "响应率",
            "解决率",
            "满意率",
            "派单数",
            "说明",
        ],
    )
    formats = {6: "0.0000", 7: PERCENT, 8: PERCENT, 9: PERCENT}
    for pair in lists.lists:
        _list_rows(ranked, quarter, pair, formats, lists.min_dispatches, names)
    for sheet, columns in ((rates, "BC"), (ranked, "DE")):
        for letter in columns:
            sheet.column_dimensions[letter].width = 20
    return _bytes(book)


def _list_rows(
    sheet: Worksheet,
    quarter: str,
    pair: RankedLists,
    formats: dict[int, str],
    least: int,
    names: Mapping[str, str],
) -> None:
    for which, rows in (("audit.red", pair.red), ("audit.black", pair.black)):
        for rank, row in enumerate(rows, start=1):
            _append(
                sheet,
                [
                    quarter,
                    zh(which),
                    rank,
                    row.unit,
                    names.get(row.unit, row.unit),
                    row.kind or "",
                    row.score,
                    *_rates(row),
                    row.dispatches,
                    "",
                ],
                formats,
            )
    for out in pair.left_out:
        _append(
            sheet,
            [
                quarter,
                zh("audit.left_out"),
                None,
                out.unit,
                names.get(out.unit, out.unit),
                out.kind,
                *([None] * 4),
                out.dispatches,
                left_out_why(out.why, least, zh),
            ],
            formats,
        )


def xlsx_response(data: bytes, filename: str) -> Response:
    """A download: the spreadsheet's type, and the name to save it under."""
    return Response(
        content=data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
