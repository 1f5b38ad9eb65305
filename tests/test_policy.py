"""The policy file: the default table, partial overrides, and refusals that name the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from models.durations import Span, format_duration, format_span, parse_duration
from models.errors import PolicyError
from models.policy import AssessmentRules, CaseRules
from policy.loader import load_policy, policy_document, policy_from_document


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "district.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_encodes_the_domain_table() -> None:
    policy = load_policy()
    spans = {
        name: (
            format_span(Span(r.report_in_seconds, r.report_in_working_days)),
            format_span(Span(r.resolve_seconds, r.resolve_working_days)),
            r.on_miss,
            format_duration(r.supervise_every_seconds),
        )
        for name, r in policy.levels.items()
    }
    assert spans == {
        "publicity": ("1d", "15wd", "escalate", "1d"),
        "emergency": ("30m", "1d", "escalate", "30m"),
        "enforcement": ("2h", "5wd", "escalate", "2h"),
        "joint": ("3wd", "15wd", "supervise", "1d"),
    }
    assert policy.rules == CaseRules(
        return_window_seconds=0,
        returns_to_joint=2,
        confirmation_seconds=0,
        return_window_working_days=2,
        confirmation_working_days=3,
        return_review_seconds=0,
        return_review_working_days=1,
        redo_below=3,
        redo_cap=2,
    )
    assert policy.levels["enforcement"].extension_cap_seconds == 10 * 86400
    assert (policy.closes_at, policy.extra_holidays, policy.extra_workdays) == ("24:00", (), ())
    assert policy.assessment == AssessmentRules(min_dispatches=5, list_size=3)
    assert policy.working_time is None and policy.uses_working_days
    assert policy.routing["fire_lane"][0] == "fire_rescue"
    assert "not_our_duty" in policy.return_reasons


def test_partial_override_keeps_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[levels.emergency]\nreport_in = "10m"\nresolve = "12h"\n\n'
        '[routing]\nparking = ["urban_management"]\nhawkers = ["urban_management", "market_regulation"]\n',
    )
    default, district = load_policy(), load_policy(path)
    assert district.levels["emergency"].report_in_seconds == 600
    assert district.levels["emergency"].resolve_seconds == 12 * 3600
    assert district.levels["emergency"].remind_at == default.levels["emergency"].remind_at
    assert district.levels["joint"] == default.levels["joint"]
    assert district.routing["parking"] == ["urban_management"]
    assert district.routing["fire_lane"] == default.routing["fire_lane"]
    assert district.routing["hawkers"] == ["urban_management", "market_regulation"]
    assert district.version != default.version


def test_version_is_the_content(tmp_path: Path) -> None:
    same = write(tmp_path, '[levels.emergency]\nreport_in = "30m"\n')
    assert load_policy(same).version == load_policy().version
    document = policy_document(load_policy())
    assert policy_from_document(document) == load_policy()
    document["levels"]["emergency"]["report_in_seconds"] = 1
    with pytest.raises(PolicyError, match="does not match its version"):
        policy_from_document(document)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[levels.emergency\n", "invalid TOML"),
        ('[levels.urgent]\nreport_in = "1h"\n', "levels.urgent: unknown level"),
        (
            '[levels.emergency]\nreport_in = "0m"\n',
            "levels.emergency.report_in: must be longer than zero",
        ),
        (
            '[levels.emergency]\nreport_in = "-5m"\n',
            "levels.emergency.report_in: must be a duration",
        ),
        (
            "[levels.emergency]\nreport_in = 30\n",
            "levels.emergency.report_in: must be a duration string",
        ),
        ('[levels.emergency]\nresolve = "soon"\n', "levels.emergency.resolve: must be a duration"),
        (
            '[levels.emergency]\nreport_in = "2d"\n',
            "levels.emergency.report_in: must not be longer than",
        ),
        ("[levels.emergency]\nremind_at = 1.5\n", "levels.emergency.remind_at: must be a fraction"),
        (
            '[levels.emergency]\nescalate_to = "joint"\n',
            "levels.emergency.escalate_to: unknown key",
        ),
        ('[routing]\nparking = ["army"]\n', "routing.parking: unknown department 'army'"),
        ("[routing]\nparking = []\n", "routing.parking: must be a non-empty list"),
        (
            '[routing]\nparking = ["police", "police"]\n',
            "routing.parking: names a department twice",
        ),
        ("[rules]\nreturns_to_joint = 0\n", "rules.returns_to_joint: must be a whole number"),
        ('[rules]\nreturn_window = "0s"\n', "rules.return_window: must be longer than zero"),
        ('[rules]\nreturn_window = "0wd"\n', "rules.return_window: must be longer than zero"),
        ('[rules]\nappeal = "1d"\n', "rules.appeal: unknown key"),
        ('[departments]\n"Bad Code" = "x"\n', "departments.Bad Code: a code is lower-case"),
        ('[departments]\nfire_rescue = ""\n', "departments.fire_rescue: must not be empty"),
        ('title = "x"\n', "title: unknown section"),
        (
            '[departments]\nfire_rescue = "Fire\\u0000 brigade"\n',
            "departments.fire_rescue: must not contain control characters",
        ),
        (
            '[return_reasons]\nnot_our_duty = "\\u001b[31mred"\n',
            "return_reasons.not_our_duty: must not contain control characters",
        ),
        (
            '[routing]\n"\'; DROP TABLE cases; --" = ["police"]\n',
            r"routing\.'; DROP TABLE cases; --: a code is lower-case letters, digits and _",
        ),
        (
            "[departments]\n"
            + "".join(f'd{n} = "department {n}"\n' for n in range(31))
            + "[routing]\nmany = ["
            + ", ".join(f'"d{n}"' for n in range(31))
            + "]\n",
            "routing.many: routes to at most 30 departments",
        ),
        (
            "[routing]\n" + "".join(f'c{n} = ["police", "housing"]\n' for n in range(3000)),
            r"policy: is \d+ KiB encoded, over 64 KiB: a copy travels with every case",
        ),
    ],
)
def test_bad_policy_is_refused_with_key_and_rule(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(write(tmp_path, text))


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="must be UTF-8"):
        load_policy(binary)


@pytest.mark.parametrize(
    ("text", "seconds"), [("10s", 10), ("30m", 1800), ("2h", 7200), ("5d", 432000), ("1h30m", 5400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text, field="x") == seconds
    assert parse_duration(format_duration(seconds), field="x") == seconds


@pytest.mark.parametrize("text", ["", "5", "5w", "1.5h", "h", "-1d", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="by:"):
        parse_duration(text, field="by")


@pytest.mark.parametrize("step", [0, -3600], ids=["same instant", "clock stepped back"])
def test_the_last_applied_policy_is_in_force_whatever_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    import store.policies
    from store.engine import make_engine
    from store.policies import activate_policy, policy_in_force

    times = iter(
        datetime(2026, 11, 29, 12, tzinfo=UTC) + timedelta(seconds=step * i) for i in range(9)
    )

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Clock:
            return cls.fromtimestamp(next(times).timestamp(), tz)

    monkeypatch.setattr(store.policies, "datetime", Clock)
    engine = make_engine(f"sqlite:///{tmp_path / 'policy.db'}")
    try:
        first = load_policy()
        (tmp_path / "edited.toml").write_text('[rules]\nconfirmation = "5d"\n', encoding="utf-8")
        edited = load_policy(tmp_path / "edited.toml")
        activate_policy(engine, first, source="default")
        activate_policy(engine, edited, source="edited.toml")
        assert policy_in_force(engine) == edited
        activate_policy(engine, first, source="default")
        assert policy_in_force(engine) == first
    finally:
        engine.dispose()
