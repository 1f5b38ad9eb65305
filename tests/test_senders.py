"""Each channel kind against a real local receiver: an HTTP server (standard
library, in a thread) that records every request and can fail, hang, throttle
and recover; an SMTP server (aiosmtpd) with STARTTLS and login. Also the
Chinese words of a message and cutting them to a channel's limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from models.notify import Outgoing, Recipient
from notify.channels import Channel, parse_channels
from notify.messages import (
    DINGTALK_MARKDOWN_MAX_BYTES,
    SMS_PARAM_MAX_CHARS,
    WECOM_MARKDOWN_MAX_BYTES,
    cut,
    render,
    time_left,
)
from notify.outcomes import retry_after
from notify.senders import send
from notify.senders_http import DINGTALK_THROTTLE_SECONDS, WECOM_THROTTLE_SECONDS
from tests.receivers import Receiver, Reply

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 5, 40, tzinfo=UTC)
HOOK_SECRET = "hook-secret-1"
DING_SECRET = "SECding-secret-2"
SMS_SECRET = "sms-secret-3"
KEY = "robot-key-4"


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def channel(kind: str, **settings: Any) -> Channel:
    raw: dict[str, Any] = {"name": f"test-{kind}", "kind": kind, "for": ["*"], **settings}
    return parse_channels({"channel": [raw]}, "test")[0]


def outgoing(kind: str = "dispatch", deadline: datetime | None = None, **changes: Any) -> Outgoing:
    url = "https://whistle.example/cases/case-1"
    title, text = render(
        kind,
        "emergency",
        "安宁苑 3 号楼漏水",
        "case-1",
        "emergency whistle",
        deadline,
        NOW,
        SHANGHAI,
        url,
    )
    fields: dict[str, Any] = {
        "delivery_id": "d-42",
        "case_id": "case-1",
        "kind": kind,
        "level": "emergency",
        "unit": "police_7",
        "recipient": Recipient(name="police_7", kind="police"),
        "title": title,
        "text": text,
        "url": url,
        "at": NOW,
    }
    return Outgoing(**{**fields, **changes})


# --- messages -----------------------------------------------------------------


def test_a_message_reads_in_chinese_with_local_times_and_the_time_left() -> None:
    out = outgoing(deadline=NOW + timedelta(minutes=25))
    assert out.title == "【应急哨】新派单：安宁苑 3 号楼漏水"
    assert out.text.splitlines() == [
        "案件：安宁苑 3 号楼漏水（case-1）",
        "你单位被吹哨，请按时报到并处置。",
        "期限：2026-11-30 14:05（还剩 25 分钟）",
        "时间：2026-11-30 13:40",
        "查看：https://whistle.example/cases/case-1",
    ]
    assert "emergency whistle" not in out.text  # the kind has Chinese words


def test_a_kind_without_chinese_words_keeps_the_outbox_note() -> None:
    title, text = render("novel", "joint", "T", "c", "a new note", None, NOW, SHANGHAI, "u")
    assert title == "【攻坚哨】通知：T"
    assert "说明：a new note" in text and "期限" not in text
    for kind in ("confirm", "delivery_failed", "extension_review", "dispatch"):
        assert "说明" not in render(kind, "publicity", "T", "c", "x", None, NOW, SHANGHAI, "u")[1]


def test_a_persons_words_reach_the_reader() -> None:
    """A station's note, a redo's reason or a task is shown with the kind's wording."""
    for kind in ("supervision", "redo", "plan", "joint_meeting"):
        text = render(kind, "joint", "T", "c", "请今天下班前处理", None, NOW, SHANGHAI, "u")[1]
        assert "说明：请今天下班前处理" in text


def test_the_time_shown_is_when_it_was_queued() -> None:
    queued = NOW - timedelta(minutes=10)
    text = render("dispatch", "joint", "T", "c", "x", None, NOW, SHANGHAI, "u", queued)[1]
    assert "时间：2026-11-30 13:30" in text


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=30), "还剩 不到 1 分钟"),
        (timedelta(minutes=25), "还剩 25 分钟"),
        (timedelta(hours=3, minutes=5), "还剩 3 小时 5 分钟"),
        (timedelta(days=2, hours=1), "还剩 2 天 1 小时"),
        (-timedelta(hours=2), "已超时 2 小时"),
        (-timedelta(days=3), "已超时 3 天"),
    ],
)
def test_time_left_in_words(delta: timedelta, words: str) -> None:
    assert time_left(NOW + delta, NOW) == words


def test_cut_keeps_valid_utf8_within_the_limit() -> None:
    assert cut("短", 5) == "短"
    assert cut("一二三四五六", 4) == "一二三…"
    for limit in range(3, 20):
        cut_text = cut("漏水" * 10, limit, count_bytes=True)
        assert len(cut_text.encode()) <= limit and cut_text.endswith("…")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(format_datetime(NOW + timedelta(seconds=90), usegmt=True), NOW) == 90.0
    assert retry_after("soon") is None and retry_after(None) is None


# --- webhook ------------------------------------------------------------------


async def test_a_webhook_is_signed_over_the_raw_body(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    hook = channel(
        "webhook",
        url=receiver.url + "/in",
        secret=HOOK_SECRET,
        headers={"Authorization": "Bearer t"},
    )
    out = outgoing(deadline=NOW + timedelta(minutes=25))
    result = await send(hook, out, http)
    assert result.ok and not result.error
    (seen,) = receiver.seen
    expected = hmac.new(HOOK_SECRET.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-Whistle-Signature"] == f"sha256={expected}"
    assert seen.headers["X-Whistle-Delivery"] == "d-42"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Authorization"] == "Bearer t"
    body = seen.json()
    assert {
        key: body[key] for key in ("delivery_id", "case_id", "kind", "level", "unit", "recipient")
    } == {
        "delivery_id": "d-42",
        "case_id": "case-1",
        "kind": "dispatch",
        "level": "emergency",
        "unit": "police_7",
        "recipient": "police_7",
    }
    assert (body["title"], body["text"], body["url"]) == (out.title, out.text, out.url)
    assert datetime.fromisoformat(body["at"]) == NOW


async def test_a_webhook_that_fails_hangs_and_throttles_then_recovers(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    hook = channel(
        "webhook", url=receiver.url + "/in?token=TOPSECRET", secret=HOOK_SECRET, timeout_seconds=1
    )
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    receiver.script = [
        Reply(status=500),
        Reply(delay=1.5),
        Reply(status=429, headers={"Retry-After": "7"}),
        Reply(status=503, headers={"Retry-After": later}),
        Reply(status=429),
        Reply(status=408),
    ]
    out = outgoing()
    results = [await send(hook, out, http) for _ in range(7)]
    assert [r.ok for r in results] == [False] * 6 + [True]
    assert not any(r.permanent for r in results)
    assert results[0].error.endswith("answered HTTP 500")
    assert "timed out" in results[1].error
    assert results[2].retry_after == 7.0
    assert results[3].retry_after is not None and 100 < results[3].retry_after <= 120
    assert results[4].retry_after is None
    assert all("TOPSECRET" not in r.error and HOOK_SECRET not in r.error for r in results)
    # Every retry carries the same delivery id and the same signed body.
    assert {seen.headers["X-Whistle-Delivery"] for seen in receiver.seen} == {"d-42"}
    assert len({seen.body for seen in receiver.seen}) == 1


async def test_a_refusal_is_permanent_and_a_closed_port_transient(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.script = [Reply(status=404)]
    hook = channel("webhook", url=receiver.url + "/in?token=TOPSECRET", secret=HOOK_SECRET)
    gone = await send(hook, outgoing(), http)
    assert not gone.ok and gone.permanent and "TOPSECRET" not in gone.error
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = channel("webhook", url=f"http://127.0.0.1:{port}/?token=TOPSECRET", secret=HOOK_SECRET)
    down = await send(closed, outgoing(), http)
    assert not down.ok and not down.permanent and down.retry_after is None
    assert "ConnectError" in down.error and "TOPSECRET" not in down.error
    in_path = channel("webhook", url=f"http://127.0.0.1:{port}/hook/PATHTOKEN", secret=HOOK_SECRET)
    also_down = await send(in_path, outgoing(), http)  # Feishu and Slack keep keys in the path
    assert "127.0.0.1" in also_down.error and "PATHTOKEN" not in also_down.error


# --- robots -------------------------------------------------------------------


async def test_a_wecom_robot_gets_markdown_and_its_errcodes_are_read(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    robot = channel("wecom", url=f"{receiver.url}/cgi-bin/webhook/send?key={KEY}")
    receiver.script = [
        Reply(),
        Reply(body={"errcode": 45009, "errmsg": "api freq out of limit"}),
        Reply(body={"errcode": 93000, "errmsg": f"invalid webhook url, key={KEY}"}),
        Reply(body={"errcode": -1, "errmsg": "system busy"}),
    ]
    out = outgoing()
    ok, throttled, wrong, busy = [await send(robot, out, http) for _ in range(4)]
    assert ok.ok
    assert receiver.seen[0].query["key"] == [KEY]
    content = receiver.seen[0].json()["markdown"]["content"]
    assert receiver.seen[0].json()["msgtype"] == "markdown"
    assert content.startswith(f"**{out.title}**\n案件：")
    assert content.endswith(f"\n[查看案件]({out.url})") and "查看：" not in content
    assert (throttled.ok, throttled.retry_after) == (False, WECOM_THROTTLE_SECONDS)
    assert wrong.permanent and "93000" in wrong.error and KEY not in wrong.error
    assert not busy.ok and not busy.permanent


async def test_a_long_text_is_cut_to_the_robot_limit_keeping_the_link(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    out = outgoing(text="漏" * 5000 + "\n查看：https://whistle.example/cases/case-1")
    await send(channel("wecom", url=f"{receiver.url}/?key={KEY}"), out, http)
    content = receiver.seen[0].json()["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MARKDOWN_MAX_BYTES
    assert "漏…\n[查看案件](" in content
    await send(
        channel("dingtalk", url=f"{receiver.url}/?access_token=t", secret=DING_SECRET), out, http
    )
    text = receiver.seen[1].json()["markdown"]["text"]
    assert len(text.encode()) <= DINGTALK_MARKDOWN_MAX_BYTES and text.endswith(
        f"[查看案件]({out.url})"
    )


async def test_a_dingtalk_robot_gets_a_sign_it_can_check(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    robot = channel(
        "dingtalk", url=f"{receiver.url}/robot/send?access_token=TOKEN5", secret=DING_SECRET
    )
    receiver.script = [
        Reply(),
        Reply(body={"errcode": 130101, "errmsg": "send too fast"}),
        Reply(body={"errcode": 310000, "errmsg": "sign not match"}),
    ]
    out = outgoing()
    ok, throttled, refused = [await send(robot, out, http) for _ in range(3)]
    assert ok.ok
    seen = receiver.seen[0]
    assert seen.query["access_token"] == ["TOKEN5"]
    (stamp,) = seen.query["timestamp"]
    assert abs(int(stamp) - time.time() * 1000) < 60_000
    digest = hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256)
    assert seen.query["sign"] == [base64.b64encode(digest.digest()).decode()]  # parse_qs decoded it
    body = seen.json()
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == out.title
    assert body["markdown"]["text"].startswith(f"**{out.title}**\n\n案件：")
    assert (throttled.ok, throttled.retry_after) == (False, DINGTALK_THROTTLE_SECONDS)
    assert refused.permanent and "310000" in refused.error
    assert not [r for r in (throttled, refused) if "TOKEN5" in r.error or DING_SECRET in r.error]


# --- sms ----------------------------------------------------------------------


async def test_an_sms_gateway_gets_a_signed_template_request(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    gateway = channel(
        "sms",
        url=receiver.url + "/sms",
        access_key="AK1",
        secret_key=SMS_SECRET,
        sign_name="应急哨",
        template_id="SMS_1",
        phones=["13800000000", "+8613900000000"],
    )
    receiver.script = [
        Reply(body={"code": "OK"}),
        Reply(body={"code": 0}),
        Reply(body={"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "bad"}),
    ]
    long_title = outgoing(title="【应急哨】新派单：" + "安宁苑" * 10)
    results = [await send(gateway, long_title, http) for _ in range(3)]
    assert [r.ok for r in results] == [True, True, False] and results[2].permanent
    seen = receiver.seen[0]
    expected = hmac.new(SMS_SECRET.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-Signature"] == f"sha256={expected}"
    assert seen.headers["X-Access-Key"] == "AK1"
    body = seen.json()
    assert (body["out_id"], body["sign_name"], body["template_id"]) == ("d-42", "应急哨", "SMS_1")
    assert body["phones"] == ["13800000000", "+8613900000000"]
    params = body["template_params"]
    assert (params["level"], params["kind"], params["case"]) == ("应急哨", "新派单", "case-1")
    assert (
        params["title"].startswith("安宁苑安宁苑") and len(params["title"]) == SMS_PARAM_MAX_CHARS
    )
    assert SMS_SECRET not in results[2].error


# --- email --------------------------------------------------------------------


@dataclass
class Mailbox:
    port: int
    ca_file: Path
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword) and session.ssl is not None  # only after STARTTLS
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((mechanism, login))
        return AuthResult(success=(login, password) == ("whistle", MAIL_PASSWORD), handled=False)


MAIL_PASSWORD = "mail-secret-6"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def mailbox(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Mailbox]:
    only = getattr(request, "param", None)  # offer only this AUTH mechanism
    excluded = [name for name in ("LOGIN", "PLAIN") if only not in (None, name)]
    cert_file, key_file = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port=port, ca_file=cert_file)
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=box.authenticate,
        auth_exclude_mechanism=excluded,
    )
    controller.start()
    yield box
    controller.stop()


def mail_channel(box: Mailbox, **changes: Any) -> Channel:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": box.port,
        "username": "whistle",
        "password": MAIL_PASSWORD,
        "sender": "whistle@district.example",
        "to": ["duty@police.example", "chief@police.example"],
        "ca_file": str(box.ca_file),
        "timeout_seconds": 5,
    }
    return channel("email", **{**settings, **changes})


@pytest.mark.parametrize("mailbox", ["PLAIN", "LOGIN"], indirect=True)
async def test_mail_goes_over_starttls_with_login_in_chinese(
    mailbox: Mailbox, http: httpx.AsyncClient, request: pytest.FixtureRequest
) -> None:
    out = outgoing(deadline=NOW - timedelta(hours=2))
    result = await send(mail_channel(mailbox), out, http)
    assert result.ok and not result.error
    ((sender, recipients, content),) = mailbox.received
    assert sender == "whistle@district.example"
    assert recipients == ["duty@police.example", "chief@police.example"]
    assert mailbox.logins == [(request.node.callspec.params["mailbox"], "whistle")]
    mail = message_from_bytes(content, policy=default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"] == "【应急哨】新派单：安宁苑 3 号楼漏水"
    assert mail["X-Whistle-Delivery"] == "d-42"
    assert mail["Message-ID"] == "<d-42.whistle@district.example>"
    body = mail.get_body()
    assert body is not None and body.get_content().replace("\r\n", "\n").rstrip("\n") == out.text
    assert "已超时 2 小时" in out.text


async def test_mail_refusals_are_permanent_and_keep_the_password_out(
    mailbox: Mailbox, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    wrong = await send(mail_channel(mailbox, password="not-it"), outgoing(), http)
    assert not wrong.ok and wrong.permanent and "535" in wrong.error
    (tmp_path / "other").mkdir()
    other_ca, _ = self_signed(tmp_path / "other")
    untrusted = await send(mail_channel(mailbox, ca_file=str(other_ca)), outgoing(), http)
    assert not untrusted.ok and untrusted.permanent and "certificate" in untrusted.error
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = await send(mail_channel(mailbox, port=closed), outgoing(), http)
    assert not down.ok and not down.permanent
    assert not mailbox.received
    nobody = await send(mail_channel(mailbox, to=["nobody@police.example"]), outgoing(), http)
    assert not nobody.ok and nobody.permanent and "refused 1 recipients" in nobody.error
    assert "nobody@police.example" not in nobody.error  # a person's address stays private
    some = await send(
        mail_channel(mailbox, to=["nobody@x.example", "duty@x.example"]), outgoing(), http
    )
    assert some.ok and "refused 1 recipients" in some.error  # the others have it: no retry
    assert [rcpt for _, rcpt, _ in mailbox.received] == [["duty@x.example"]]
    assert not [r for r in (wrong, untrusted, down) if MAIL_PASSWORD in r.error]
