"""The four whistles (四级哨), lowest to highest.

Each whistle's value is its name, which is what the state, the events and the
database hold; ``rank`` gives its place (1 to 4). Levels are never compared as
numbers: ``next_up`` is the only step between them.
"""

from __future__ import annotations

from enum import StrEnum


class WhistleLevel(StrEnum):
    PUBLICITY = "publicity"  # 宣传哨
    EMERGENCY = "emergency"  # 应急哨
    ENFORCEMENT = "enforcement"  # 执法哨
    JOINT = "joint"  # 攻坚哨: joint task force

    @property
    def label(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """1 for publicity up to 4 for the joint task force."""
        return list(WhistleLevel).index(self) + 1

    @classmethod
    def parse(cls, value: str | int) -> WhistleLevel:
        """Accept a level name (``emergency``) or rank (``2``)."""
        text = str(value).strip().lower()
        rank = int(text) if text.isdigit() else None
        for level in cls:
            if text == level.value or rank == level.rank:
                return level
        names = ", ".join(f"{lvl.label} ({lvl.rank})" for lvl in cls)
        raise ValueError(f"level: must be one of {names}; got {value!r}")

    def next_up(self) -> WhistleLevel:
        """The whistle above; the joint task force is the highest."""
        levels = list(WhistleLevel)
        return levels[min(self.rank, len(levels) - 1)]


LEVEL_NAMES = [level.label for level in WhistleLevel]
