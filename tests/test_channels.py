"""The channels file: a good file of every kind loads; every bad one is refused
naming the channel, the key and the rule, and never showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.notify import Recipient
from notify.channels import (
    ATTEMPTS,
    ROBOT_RATE_PER_MINUTE,
    TIMEOUT_SECONDS,
    ChannelsFileError,
    DingTalkChannel,
    EmailChannel,
    SmsChannel,
    WebhookChannel,
    WeComChannel,
    load_channels,
)
from notify.routing import channels_for, serves
from settings import Settings

EXAMPLE = Path(__file__).parent.parent / "notify" / "channels.example.toml"
SECRETS = ("change-me-webhook-secret", "key=change-me", "SECchange-me", "change-me-secret-key")

GOOD = """
[[channel]]
name = "hook"
kind = "webhook"
for = ["*"]
url = "https://hooks.example/whistle?token=TOPSECRET"
secret = "hook-secret"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "channels.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ChannelsFileError) as caught:
        load_channels(path)
    message = str(caught.value)
    assert message.startswith(f"channels file {path}: ")
    return message


def test_the_example_file_loads_one_channel_of_each_kind() -> None:
    channels = load_channels(EXAMPLE)
    kinds = [type(channel) for channel in channels]
    assert kinds == [WebhookChannel, WeComChannel, DingTalkChannel, EmailChannel, SmsChannel]
    hook, wecom, ding, mail, sms = channels
    assert isinstance(hook, WebhookChannel) and isinstance(mail, EmailChannel)
    assert hook.headers["Authorization"].get_secret_value() == "Bearer change-me"
    assert (hook.timeout_seconds, hook.attempts, hook.rate_per_minute) == (
        TIMEOUT_SECONDS,
        ATTEMPTS,
        60,
    )
    assert wecom.rate_per_minute == ding.rate_per_minute == ROBOT_RATE_PER_MINUTE
    assert mail.starttls and mail.port == 587 and mail.to == ("branch-anningyuan@district.example",)
    assert isinstance(sms, SmsChannel) and (sms.timeout_seconds, sms.attempts) == (5, 12)
    assert sms.sign_name == "应急哨"
    shown = repr(channels) + str(channels)
    assert not [secret for secret in SECRETS if secret in shown]


def test_no_file_means_no_channels_and_the_setting_names_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_channels(None) == []
    monkeypatch.setenv("WHISTLE_CHANNELS_FILE", str(EXAMPLE))
    assert Settings().channels_file == EXAMPLE


def test_a_missing_or_broken_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChannelsFileError, match="cannot read"):
        load_channels(tmp_path / "absent.toml")
    assert "not TOML" in refused(tmp_path, "[[channel]\nname = 1")
    assert "chanel: unknown key" in refused(tmp_path, GOOD + '\n[chanel]\nname = "x"\n')
    assert "channel: must be a list" in refused(tmp_path, '[channel]\nname = "x"\n')


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            'url = "ftp://hooks.example/?token=TOPSECRET"',
            'channel "hook": url: must be an http(s) URL',
        ),
        ('url = "hooks.example/TOPSECRET"', 'channel "hook": url: must be an http(s) URL'),
        ('secret = ""', 'channel "hook": secret: must not be empty'),
        (
            "timeout_seconds = 0",
            'channel "hook": timeout_seconds: Input should be greater than or equal to 1',
        ),
        (
            "timeout_seconds = 61",
            'channel "hook": timeout_seconds: Input should be less than or equal to 60',
        ),
        ("attempts = 51", 'channel "hook": attempts: Input should be less than or equal to 50'),
        (
            "rate_per_minute = 0",
            'channel "hook": rate_per_minute: Input should be greater than or equal to 1',
        ),
        ("retries = 3", 'channel "hook": retries: Extra inputs are not permitted'),
        ('for = ["police", "ward:x"]', 'channel "hook": for.1: must be "*", "station:CODE"'),
        ('for = ["station:"]', 'channel "hook": for.0: must be "*"'),
        ('for = ["Police"]', 'channel "hook": for.0: must be "*"'),
        ("for = []", 'channel "hook": for: Tuple should have at least 1 item'),
        ('headers = { "X-Whistle-Signature" = "forged" }', "is set by whistle itself"),
        ('headers = { "Bad Header" = "x" }', "is not a header name"),
    ],
)
def test_a_bad_webhook_key_is_refused_with_channel_key_and_rule(
    tmp_path: Path, change: str, expected: str
) -> None:
    key = change.split(" =")[0]
    lines = [line for line in GOOD.splitlines() if not line.startswith(f"{key} =")]
    message = refused(tmp_path, "\n".join([*lines, change]))
    assert expected in message
    assert "TOPSECRET" not in message and "hook-secret" not in message


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ('name = "w"\nkind = "wecom"\nfor = ["*"]', 'channel "w": url: Field required'),
        (
            'name = "d"\nkind = "dingtalk"\nfor = ["*"]\nurl = "https://d.example/?access_token=TOPSECRET"',
            'channel "d": secret: Field required',
        ),
        (
            'name = "m"\nkind = "email"\nfor = ["*"]\nhost = "h"\nport = 70000\nusername = "u"\npassword = "TOPSECRET"\nsender = "a@b.example"\nto = ["c@d.example"]',
            'channel "m": port: Input should be less than or equal to 65535',
        ),
        (
            'name = "m"\nkind = "email"\nfor = ["*"]\nhost = "h"\nport = 25\nusername = "u"\npassword = "TOPSECRET"\nsender = "nobody"\nto = ["c@d.example"]',
            'channel "m": sender: must be a mail address',
        ),
        (
            'name = "m"\nkind = "email"\nfor = ["*"]\nhost = "h"\nport = 25\nusername = "u"\npassword = "TOPSECRET"\nsender = "a@b.example"\nto = []',
            'channel "m": to: must list at least one',
        ),
        (
            'name = "s"\nkind = "sms"\nfor = ["*"]\nurl = "https://s.example/"\naccess_key = "a"\nsecret_key = "TOPSECRET"\nsign_name = "n"\ntemplate_id = "t"\nphones = ["12ab"]',
            'channel "s": phones.0: must be a phone number',
        ),
        (
            'name = "x"\nkind = "pager"\nfor = ["*"]',
            'channel "x": kind: must be one of webhook, wecom, dingtalk, email, sms',
        ),
        (
            'kind = "wecom"\nfor = ["*"]\nurl = "https://q.example/?key=TOPSECRET"',
            "channel 1: name: Field required",
        ),
        (
            'name = "Police WeCom"\nkind = "wecom"\nfor = ["*"]\nurl = "https://q.example/?key=TOPSECRET"',
            'channel "Police WeCom": name: 1 to 64 lower-case',
        ),
    ],
)
def test_a_bad_channel_of_any_kind_is_refused(tmp_path: Path, channel: str, expected: str) -> None:
    message = refused(tmp_path, f"[[channel]]\n{channel}\n")
    assert expected in message
    assert "TOPSECRET" not in message


def test_every_problem_is_listed_and_names_are_unique(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        GOOD
        + GOOD
        + '[[channel]]\nname = "b"\nkind = "wecom"\nfor = ["*"]\nurl = "x"\nattempts = 0\n',
    )
    assert 'channel "hook": name: must be unique' in message
    assert 'channel "b": url: must be an http(s) URL' in message
    assert 'channel "b": attempts: Input should be greater than or equal to 1' in message
    assert len(message.splitlines()) == 3


def test_a_channel_serves_everyone_a_name_or_a_kind(tmp_path: Path) -> None:
    text = GOOD.replace(
        'for = ["*"]', 'for = ["police", "fire_3", "station:xinjie", "branch:anningyuan"]'
    )
    everyone, named = load_channels(write(tmp_path, GOOD + text.replace('"hook"', '"named"')))
    police = Recipient(name="police_7", kind="police")
    fire = Recipient(name="fire_3", kind="fire_rescue")
    station = Recipient(name="station:xinjie")
    branch = Recipient(name="branch:anningyuan")
    others = [
        Recipient(name="station:oldtown"),
        Recipient(name="urban_1", kind="urban"),
        Recipient(name="police"),
    ]
    assert all(serves(named, who) for who in (police, fire, station, branch))
    assert serves(named, others[2])  # a unit whose code is a kind's name is served by that name
    assert not any(serves(named, who) for who in others[:2])
    assert all(serves(everyone, who) for who in (police, *others))
    assert channels_for([everyone, named], station) == [everyone, named]
    assert channels_for([everyone, named], others[0]) == [everyone]
