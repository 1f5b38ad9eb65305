"""Every word the workbench shows exists in both languages, with the same fields,
and every key a template or page asks for is in the catalogue: a missing entry
would show its key on the page."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from web.i18n import say, span_words, time_left
from web.words import LANGUAGES, WORDS

WEB = Path(__file__).parent.parent / "web"
# t('key'...), t("key"...), page.t('key'), say('key', ...): literal keys only.
ASKED = re.compile(r"""\b(?:t|say|zh)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(WORDS))
def test_each_word_in_both_languages_with_the_same_fields(key: str) -> None:
    chinese, english = WORDS[key]
    assert chinese.strip() and english.strip()
    assert _fields(chinese) == _fields(english)


def test_every_key_asked_for_is_in_the_catalogue() -> None:
    asked: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        asked |= set(ASKED.findall(path.read_text(encoding="utf-8")))
    assert len(asked) > 100  # the pattern still finds what the pages ask for
    assert sorted(k for k in asked if k not in WORDS) == []


def test_chinese_is_the_default_and_english_a_switch() -> None:
    assert LANGUAGES[0] == "zh-CN"
    assert say("nav.inbox", "zh-CN") == "待办" and say("nav.inbox", "en") == "Inbox"
    assert say("nav.inbox", "fr") == "Inbox"  # only zh-CN is Chinese; pick_lang guards


def test_durations_in_words() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert time_left(now + timedelta(minutes=25, seconds=30), now, "zh-CN") == "还剩 25 分钟"
    assert time_left(now - timedelta(hours=2, minutes=5), now, "zh-CN") == "已超时 2 小时 5 分钟"
    assert time_left(now + timedelta(days=3, hours=1, minutes=9), now, "en") == "3 d 1 h left"
    assert span_words(42, "zh-CN") == "42 秒"
    assert span_words(86400 + 60, "zh-CN") == "1 天"  # two largest units that matter
