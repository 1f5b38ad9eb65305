"""The four whistles (四级哨), lowest to highest."""

from __future__ import annotations

from enum import IntEnum


class WhistleLevel(IntEnum):
    PUBLICITY = 1  # 宣传哨
    EMERGENCY = 2  # 应急哨
    ENFORCEMENT = 3  # 执法哨
    JOINT = 4  # 攻坚哨: joint task force

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int) -> WhistleLevel:
        """Accept a level name (``emergency``) or number (``2``)."""
        text = str(value).strip().lower()
        if text.isdigit() and int(text) in cls._value2member_map_:
            return cls(int(text))
        for level in cls:
            if level.label == text:
                return level
        names = ", ".join(f"{lvl.label} ({lvl.value})" for lvl in cls)
        raise ValueError(f"level: must be one of {names}; got {value!r}")

    def next_up(self) -> WhistleLevel:
        return WhistleLevel(min(self.value + 1, WhistleLevel.JOINT.value))


LEVEL_NAMES = [level.label for level in WhistleLevel]
