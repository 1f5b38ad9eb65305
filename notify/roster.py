"""The duty roster (值班表): who is on duty at a unit when, round the clock.

Loaded from a TOML file (``whistle roster load``), a list of ``[[shift]]``::

    [[shift]]
    unit = "police_anning"
    days = ["mon", "tue", "wed", "thu", "fri"]   # the days it starts; default every day
    from = "20:00"                               # local time, the district's zone
    to = "08:00"                                 # up to "from": it ends the next day
    name = "张警官"
    phone = "13800000001"                        # and/or email

An emergency whistle's dispatch, reminder and supervision also go to whoever is on
duty at the unit when it is sent out, through the channels serving ``duty``.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.limits import CODE_RULE, DEPARTMENT_CODE_RE
from notify.channels import mail_address, phone_number

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DUTY_LEVELS = frozenset({"emergency"})
"""The whistles whose unit messages also go to whoever is on duty there."""
DUTY_KINDS = frozenset({"dispatch", "reminder", "supervision"})
"""Those messages: a new whistle, 催办 and 督办."""
NAME_MAX = 50
SHIFTS_MAX = 2000


class RosterError(Exception):
    """A roster that breaks a rule; names the shift and the key."""


def _unit(value: str) -> str:
    if not DEPARTMENT_CODE_RE.fullmatch(value):
        raise ValueError(CODE_RULE)
    return value


def _clock(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a time of day such as 08:00") from None
    if len(value) != 5:
        raise ValueError("must be a time of day such as 08:00")
    return value


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    unit: Annotated[str, AfterValidator(_unit)]
    days: tuple[str, ...] = DAYS
    starts: Annotated[str, AfterValidator(_clock), Field(alias="from")]
    ends: Annotated[str, AfterValidator(_clock), Field(alias="to")]
    name: str = Field(min_length=1, max_length=NAME_MAX)
    phone: Annotated[str, AfterValidator(phone_number)] | None = None
    email: Annotated[str, AfterValidator(mail_address)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Shift:
        unknown = [day for day in self.days if day not in DAYS]
        if unknown or not self.days:
            raise ValueError(f"days: each must be one of {', '.join(DAYS)}")
        if self.phone is None and self.email is None:
            raise ValueError("phone or email: a person on duty must be reachable")
        return self

    def covers(self, at: datetime, zone: tzinfo) -> bool:
        """Whether the shift runs at ``at``: it started today or, overnight, yesterday."""
        local = at.astimezone(zone)
        starts, ends = time.fromisoformat(self.starts), time.fromisoformat(self.ends)
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if DAYS[day.weekday()] not in self.days:
                continue
            begin = datetime.combine(day, starts, tzinfo=zone)
            length = datetime.combine(day, ends, tzinfo=zone) - begin
            if length <= timedelta(0):
                length += timedelta(days=1)  # "to" up to "from": into the next day
            if begin <= local < begin + length:
                return True
        return False


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shift: list[Shift] = Field(max_length=SHIFTS_MAX)


def parse_roster(data: dict[str, Any], source: str) -> list[Shift]:
    try:
        return Roster.model_validate(data).shift
    except ValidationError as err:
        problems = []
        for item in err.errors(include_url=False, include_input=False):
            loc = [str(part) for part in item["loc"]]
            where = f"shift {int(loc[1]) + 1}" if len(loc) > 1 and loc[0] == "shift" else "roster"
            message = str(item["msg"]).removeprefix("Value error, ")
            # A shift-wide rule's message names its keys itself.
            key = f"{'.'.join(loc[2:])}: " if len(loc) > 2 else ""
            problems.append(f"{source}: {where}: {key}{message}")
        raise RosterError("\n".join(problems)) from None


def load_roster(path: Path) -> list[Shift]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RosterError(f"{path}: cannot read it: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise RosterError(f"{path}: not TOML: {err}") from None
    return parse_roster(data, str(path))
