"""The channels file (``WHISTLE_CHANNELS_FILE``): where notifications go.

TOML, a list of ``[[channel]]`` tables, each with a ``name``, a ``kind``, ``for``
(the recipients it serves) and the kind's settings::

    [[channel]]
    name = "police-wecom"
    kind = "wecom"
    for = ["police", "station:xinjie"]
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."

The file holds secrets, so it is never in the policy and never copied into a
case: every secret (and every URL, which may carry a robot's key) is a
``SecretStr``, kept out of ``repr`` and out of every error message.
Parsed by pydantic (already the project's model library): a discriminated union
on ``kind``, unknown keys refused.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from models.limits import CODE_RULE, DEPARTMENT_CODE_RE, PRINCIPAL_NAME_RE, PRINCIPAL_NAME_RULE
from models.notify import (
    BRANCH_RECIPIENT,
    DUTY,
    DUTY_RECIPIENT,
    EVERYONE,
    STATION_RECIPIENT,
    is_duty,
)

KINDS = ("webhook", "wecom", "dingtalk", "email", "sms")
TIMEOUT_SECONDS = 10
TIMEOUT_SECONDS_MAX = 60
ATTEMPTS = 8
ATTEMPTS_MAX = 50
RATE_PER_MINUTE = 60
ROBOT_RATE_PER_MINUTE = 20
"""A WeCom or DingTalk group robot takes 20 messages a minute."""
RATE_PER_MINUTE_MAX = 10_000

_PREFIXES = tuple(
    form.split("{")[0] for form in (STATION_RECIPIENT, BRANCH_RECIPIENT, DUTY_RECIPIENT)
)
_FOR_RULE = (
    f'must be "{EVERYONE}", "station:CODE", "branch:CODE", "{DUTY}", "duty:UNIT", a unit code'
    f" or a department kind; {CODE_RULE}"
)
_DUTY_KINDS = ("email", "sms")
"""Whoever is on duty is reached on their own phone or address."""
_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_OWN_HEADERS = ("x-whistle-", "content-type", "content-length", "host")
_ADDRESS_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_PHONE_RE = re.compile(r"^\+?[0-9]{5,15}$")


def _http_url(value: SecretStr) -> SecretStr:
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value


def _not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


def _recipient_form(value: str) -> str:
    code = value
    for prefix in _PREFIXES:
        if value.startswith(prefix):
            code = value[len(prefix) :]
    if value not in (EVERYONE, DUTY) and not DEPARTMENT_CODE_RE.fullmatch(code):
        raise ValueError(_FOR_RULE)
    return value


def _channel_name(value: str) -> str:
    if not PRINCIPAL_NAME_RE.fullmatch(value):
        raise ValueError(PRINCIPAL_NAME_RULE)
    return value


def _headers(value: dict[str, SecretStr]) -> dict[str, SecretStr]:
    for name in value:
        if not _HEADER_NAME_RE.fullmatch(name):
            raise ValueError(f"{name!r} is not a header name")
        if name.lower().startswith(_OWN_HEADERS):
            raise ValueError(f"{name!r} is set by whistle itself")
    return value


def mail_address(value: str) -> str:
    if not _ADDRESS_RE.fullmatch(value):
        raise ValueError("must be a mail address like duty@example.org")
    return value


def phone_number(value: str) -> str:
    if not _PHONE_RE.fullmatch(value):
        raise ValueError("must be a phone number: 5 to 15 digits, optionally after +")
    return value


HttpUrl = Annotated[SecretStr, AfterValidator(_http_url)]
Secret = Annotated[SecretStr, AfterValidator(_not_empty)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
RatePerMinute = Annotated[int, Field(ge=1, le=RATE_PER_MINUTE_MAX)]


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Annotated[str, AfterValidator(_channel_name)]
    for_: Annotated[
        tuple[Annotated[str, AfterValidator(_recipient_form)], ...],
        Field(alias="for", min_length=1),
    ]
    timeout_seconds: float = Field(default=TIMEOUT_SECONDS, ge=1, le=TIMEOUT_SECONDS_MAX)
    attempts: int = Field(default=ATTEMPTS, ge=1, le=ATTEMPTS_MAX)
    rate_per_minute: RatePerMinute = RATE_PER_MINUTE

    @field_validator("kind", check_fields=False)
    @classmethod
    def _duty_on_a_person_channel(cls, value: str, info: ValidationInfo) -> str:
        if any(is_duty(entry) for entry in info.data.get("for_", ())) and value not in _DUTY_KINDS:
            raise ValueError(
                f'"{DUTY}" entries in for need an email or sms channel: a person on duty is'
                " reached at their own address or phone"
            )
        return value


def _listed_unless_duty_only(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    served = info.data.get("for_", ())
    if not value and not (served and all(is_duty(entry) for entry in served)):
        raise ValueError(
            "must list at least one; only a channel serving people on duty alone may leave"
            " it out (they are reached at their own)"
        )
    return value


class WebhookChannel(_Channel):
    """POST of a signed JSON body to any HTTP receiver."""

    kind: Literal["webhook"]
    url: HttpUrl
    secret: Secret
    headers: Annotated[dict[str, Secret], AfterValidator(_headers)] = Field(default_factory=dict)


class WeComChannel(_Channel):
    """A WeCom (企业微信) group robot; its URL carries the robot's key."""

    kind: Literal["wecom"]
    url: HttpUrl
    rate_per_minute: RatePerMinute = ROBOT_RATE_PER_MINUTE


class DingTalkChannel(_Channel):
    """A DingTalk (钉钉) custom robot with the 加签 scheme; its URL carries the access token."""

    kind: Literal["dingtalk"]
    url: HttpUrl
    secret: Secret
    rate_per_minute: RatePerMinute = ROBOT_RATE_PER_MINUTE


class EmailChannel(_Channel):
    """SMTP with STARTTLS (unless turned off) and login."""

    kind: Literal["email"]
    host: Text
    port: int = Field(ge=1, le=65535)
    username: Text
    password: Secret
    sender: Annotated[str, AfterValidator(mail_address)]
    to: tuple[Annotated[str, AfterValidator(mail_address)], ...] = Field(
        default=(), validate_default=True
    )
    """Needed unless the channel serves only people on duty (their own address)."""
    starttls: bool = True
    ca_file: Path | None = None
    """A CA bundle to trust instead of the system's (a district's own mail server)."""

    _to_listed = field_validator("to")(_listed_unless_duty_only)


class SmsChannel(_Channel):
    """An HTTP SMS gateway: template id and parameters, signed (see ``notify.senders_http``)."""

    kind: Literal["sms"]
    url: HttpUrl
    access_key: Text
    secret_key: Secret
    sign_name: Text
    template_id: Text
    phones: tuple[Annotated[str, AfterValidator(phone_number)], ...] = Field(
        default=(), validate_default=True
    )
    """Needed unless the channel serves only people on duty (their own phone)."""

    _phones_listed = field_validator("phones")(_listed_unless_duty_only)


Channel = Annotated[
    WebhookChannel | WeComChannel | DingTalkChannel | EmailChannel | SmsChannel,
    Field(discriminator="kind"),
]
_CHANNEL: TypeAdapter[Channel] = TypeAdapter(Channel)


class ChannelsFileError(Exception):
    """The channels file is missing, not TOML, or breaks a rule; names the channel and key."""


def _problems(error: ValidationError, kind: str) -> list[str]:
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        loc = [str(part) for part in item["loc"]]
        if loc and loc[0] == kind:  # the union's tag, not a key of the file
            loc = loc[1:]
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{'.'.join(loc) or 'channel'}: {message}")
    return lines


def _parse(index: int, raw: object) -> tuple[str, Channel | list[str]]:
    if not isinstance(raw, dict):
        return f"channel {index + 1}", ["must be a table"]
    name = raw.get("name")
    label = f'channel "{name}"' if isinstance(name, str) and name else f"channel {index + 1}"
    kind = raw.get("kind")
    if kind not in KINDS:
        return label, [f"kind: must be one of {', '.join(KINDS)}"]
    try:
        return label, _CHANNEL.validate_python(raw)
    except ValidationError as error:
        return label, _problems(error, str(kind))


def parse_channels(data: dict[str, Any], source: str) -> list[Channel]:
    """The channels of a parsed file; ChannelsFileError listing every problem."""
    problems = [f"{key}: unknown key; expected [[channel]]" for key in data if key != "channel"]
    raws = data.get("channel", [])
    if not isinstance(raws, list):
        problems.append("channel: must be a list of [[channel]] tables")
        raws = []
    channels: list[Channel] = []
    seen: set[str] = set()
    for index, raw in enumerate(raws):
        label, parsed = _parse(index, raw)
        if isinstance(parsed, list):
            problems.extend(f"{label}: {line}" for line in parsed)
        elif parsed.name in seen:
            problems.append(f"{label}: name: must be unique; it is used twice")
        else:
            seen.add(parsed.name)
            channels.append(parsed)
    if problems:
        raise ChannelsFileError("\n".join(f"channels file {source}: {line}" for line in problems))
    return channels


def load_channels(path: Path | None) -> list[Channel]:
    """The channels of the file at ``path``; none when no file is set.

    A path that is set but missing is refused: a typo must not silence every channel.
    """
    if path is None:
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ChannelsFileError(f"channels file {path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ChannelsFileError(f"channels file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ChannelsFileError(f"channels file {path}: not TOML: {error}") from None
    return parse_channels(data, str(path))
