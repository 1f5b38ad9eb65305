"""The HTTP channels: signed webhooks, WeCom and DingTalk robots, an SMS gateway.

httpx (the project's HTTP client) sends; each body is serialized once, and the
bytes signed are the bytes sent.

SMS gateway shape (Aliyun/Tencent style: a template id and JSON parameters)::

    POST <url>
    Content-Type: application/json
    X-Access-Key: <access_key>
    X-Whistle-Delivery: <delivery_id>
    X-Signature: sha256=<hex HMAC-SHA256 of the raw body with secret_key>

    {"out_id": "<delivery_id>", "timestamp": <unix seconds>, "sign_name": "...",
     "template_id": "...", "phones": ["138..."],
     "template_params": {"level": "应急哨", "kind": "新派单", "title": "<case title>",
                         "case": "<case id>"}}

each parameter cut to ``SMS_PARAM_MAX_CHARS``. The gateway answers 2xx with JSON
``{"code": "OK"}`` or ``{"code": 0}`` when it accepted the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote_plus

import httpx

from models.notify import DELIVERY_HEADER, Outgoing, SendResult
from notify.channels import DingTalkChannel, SmsChannel, WebhookChannel, WeComChannel
from notify.messages import (
    DINGTALK_MARKDOWN_MAX_BYTES,
    LINK_LINE,
    SMS_PARAM_MAX_CHARS,
    WECOM_MARKDOWN_MAX_BYTES,
    cut,
    headline,
    level_name,
    title_prefix,
)
from notify.outcomes import from_exception, from_status, redact, scrub, url_secrets

SIGNATURE_HEADER = "X-Whistle-Signature"
SMS_SIGNATURE_HEADER = "X-Signature"
SMS_ACCESS_KEY_HEADER = "X-Access-Key"
WECOM_RATE_LIMITED = 45009
WECOM_THROTTLE_SECONDS = 60.0
DINGTALK_RATE_LIMITED = 130101
DINGTALK_THROTTLE_SECONDS = 600.0
"""DingTalk throttles a robot for 10 minutes once it passes 20 messages a minute."""
ROBOT_BUSY = -1
"""Both robots' "system busy": worth a retry."""
SMS_OK_CODES = ("OK", 0, "0")


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The one serialization of a JSON body: what is signed is what is sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256>`` of ``body``: what a receiver recomputes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(digest.digest()))


async def _post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    secrets: list[str],
) -> httpx.Response | SendResult:
    where = redact(url)
    try:
        return await http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        return from_exception(error, where, [*url_secrets(url), *secrets])


def _markdown(out: Outgoing, newline: str, limit: int) -> str:
    """The title in bold, the text, then the case's link, within ``limit`` bytes."""
    text = out.text.removesuffix("\n" + LINK_LINE.format(url=out.url))
    tail = f"{newline}[查看案件]({out.url})"
    body = f"**{out.title}**{newline}" + newline.join(text.split("\n"))
    return cut(body, limit - len(tail.encode()), count_bytes=True) + tail


def _answer(response: httpx.Response, where: str) -> dict[str, Any] | SendResult:
    try:
        answer = response.json()
    except ValueError:
        return SendResult(ok=False, error=f"{where} answered HTTP {response.status_code}, not JSON")
    if not isinstance(answer, dict):
        return SendResult(ok=False, error=f"{where} answered a JSON {type(answer).__name__}")
    return answer


def _robot(
    response: httpx.Response, where: str, rate_limited: int, wait: float, secrets: list[str]
) -> SendResult:
    answer = _answer(response, where)
    if isinstance(answer, SendResult):
        return answer
    code = answer.get("errcode")
    if code == 0:
        return SendResult(ok=True)
    error = scrub(f"{where} errcode {code}: {answer.get('errmsg', '')}", secrets)
    if code == rate_limited:
        return SendResult(ok=False, retry_after=wait, error=error)
    return SendResult(ok=False, permanent=code != ROBOT_BUSY, error=error)


async def send_webhook(
    channel: WebhookChannel, out: Outgoing, http: httpx.AsyncClient
) -> SendResult:
    secret = channel.secret.get_secret_value()
    url = channel.url.get_secret_value()
    extra = {name: value.get_secret_value() for name, value in channel.headers.items()}
    body = body_bytes(
        {
            "delivery_id": out.delivery_id,
            "case_id": out.case_id,
            "kind": out.kind,
            "level": out.level,
            "unit": out.unit,
            "recipient": out.recipient.name,
            "title": out.title,
            "text": out.text,
            "url": out.url,
            "at": out.at.isoformat(),
        }
    )
    headers = {
        **extra,
        DELIVERY_HEADER: out.delivery_id,
        SIGNATURE_HEADER: signature(secret, body),
    }
    secrets = [secret, *extra.values()]
    answer = await _post(http, url, body, headers, channel.timeout_seconds, secrets)
    if isinstance(answer, SendResult):
        return answer
    return from_status(answer, redact(url)) or SendResult(ok=True)


async def send_wecom(channel: WeComChannel, out: Outgoing, http: httpx.AsyncClient) -> SendResult:
    url = channel.url.get_secret_value()
    content = _markdown(out, "\n", WECOM_MARKDOWN_MAX_BYTES)
    body = body_bytes({"msgtype": "markdown", "markdown": {"content": content}})
    secrets = url_secrets(url)
    answer = await _post(http, url, body, {}, channel.timeout_seconds, secrets)
    if isinstance(answer, SendResult):
        return answer
    where = redact(url)
    failed = from_status(answer, where)
    return failed or _robot(answer, where, WECOM_RATE_LIMITED, WECOM_THROTTLE_SECONDS, secrets)


async def send_dingtalk(
    channel: DingTalkChannel, out: Outgoing, http: httpx.AsyncClient
) -> SendResult:
    secret = channel.secret.get_secret_value()
    base = channel.url.get_secret_value()
    timestamp = int(time.time() * 1000)
    joint = "&" if "?" in base else "?"
    url = f"{base}{joint}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
    text = _markdown(out, "\n\n", DINGTALK_MARKDOWN_MAX_BYTES)
    body = body_bytes({"msgtype": "markdown", "markdown": {"title": out.title, "text": text}})
    secrets = [*url_secrets(url), secret]
    answer = await _post(http, url, body, {}, channel.timeout_seconds, secrets)
    if isinstance(answer, SendResult):
        return answer
    where = redact(url)
    failed = from_status(answer, where)
    return failed or _robot(
        answer, where, DINGTALK_RATE_LIMITED, DINGTALK_THROTTLE_SECONDS, secrets
    )


def sms_params(out: Outgoing) -> dict[str, str]:
    """The template's parameters, each within ``SMS_PARAM_MAX_CHARS``."""
    case_title = out.title.removeprefix(title_prefix(out.kind, out.level))
    params = {
        "level": level_name(out.level),
        "kind": headline(out.kind),
        "title": case_title,
        "case": out.case_id,
    }
    return {key: cut(value, SMS_PARAM_MAX_CHARS) for key, value in params.items()}


async def send_sms(channel: SmsChannel, out: Outgoing, http: httpx.AsyncClient) -> SendResult:
    secret = channel.secret_key.get_secret_value()
    url = channel.url.get_secret_value()
    body = body_bytes(
        {
            "out_id": out.delivery_id,
            "timestamp": int(time.time()),
            "sign_name": channel.sign_name,
            "template_id": channel.template_id,
            "phones": list(out.recipient.phones or channel.phones),  # a person on duty: theirs
            "template_params": sms_params(out),
        }
    )
    headers = {
        SMS_ACCESS_KEY_HEADER: channel.access_key,
        DELIVERY_HEADER: out.delivery_id,
        SMS_SIGNATURE_HEADER: signature(secret, body),
    }
    answer = await _post(http, url, body, headers, channel.timeout_seconds, [secret])
    if isinstance(answer, SendResult):
        return answer
    where = redact(url)
    failed = from_status(answer, where)
    if failed is not None:
        return failed
    parsed = _answer(answer, where)
    if isinstance(parsed, SendResult):
        return parsed
    code = parsed.get("code")
    if code in SMS_OK_CODES and not isinstance(code, bool):  # False == 0 in Python
        return SendResult(ok=True)
    error = scrub(f"{where} code {code}: {parsed.get('message', '')}", [*url_secrets(url), secret])
    return SendResult(ok=False, permanent=True, error=error)
