"""The email channel: SMTP with STARTTLS and login.

The standard library's smtplib, run in a thread (``asyncio.to_thread``): no new
dependency, and one short session per message keeps no connection state.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from models.notify import DELIVERY_HEADER, Outgoing, SendResult
from notify.channels import EmailChannel
from notify.messages import EMAIL_SUBJECT_MAX_CHARS, cut
from notify.outcomes import scrub

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def message_for(channel: EmailChannel, out: Outgoing) -> EmailMessage:
    """The mail: subject the title, UTF-8 body the text; the same Message-ID on every retry."""
    mail = EmailMessage()
    # One line: a title with a line separator (U+2028...) would make the header refuse it.
    mail["Subject"] = cut(" ".join(out.title.splitlines()), EMAIL_SUBJECT_MAX_CHARS)
    mail["From"] = channel.sender
    mail["To"] = ", ".join(out.recipient.emails or channel.to)  # a person on duty: theirs
    mail["Date"] = formatdate(out.at.timestamp(), usegmt=True)
    domain = channel.sender.rsplit("@", 1)[1]
    mail["Message-ID"] = f"<{_ID_UNSAFE.sub('-', out.delivery_id)}.whistle@{domain}>"
    mail[DELIVERY_HEADER] = out.delivery_id
    mail.set_content(out.text, charset="utf-8")
    return mail


def _send(channel: EmailChannel, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
    context = ssl.create_default_context(
        cafile=str(channel.ca_file) if channel.ca_file is not None else None
    )
    with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_seconds) as smtp:
        if channel.starttls:
            smtp.starttls(context=context)
        smtp.login(channel.username, channel.password.get_secret_value())
        return smtp.send_message(mail)


async def send_email(channel: EmailChannel, out: Outgoing) -> SendResult:
    where = f"smtp {channel.host}:{channel.port}"
    secrets = [channel.password.get_secret_value()]
    try:
        refused = await asyncio.to_thread(_send, channel, message_for(channel, out))
    except smtplib.SMTPNotSupportedError:
        return SendResult(ok=False, permanent=True, error=f"{where} offers no login")
    except smtplib.SMTPRecipientsRefused as error:
        # Counted, not named: a person on duty's address must not reach the lists.
        count = len(error.recipients)
        return SendResult(ok=False, permanent=True, error=f"{where} refused {count} recipients")
    except smtplib.SMTPResponseException as error:
        # 4xx: try again later; 5xx (a refused login, sender or message): retrying cannot help.
        detail = scrub(f"{where} answered {error.smtp_code}: {error.smtp_error!r}", secrets)
        return SendResult(ok=False, permanent=error.smtp_code >= 500, error=detail)
    except ssl.SSLCertVerificationError as error:
        return SendResult(ok=False, permanent=True, error=f"{where}: {error.verify_message}")
    except (smtplib.SMTPException, OSError) as error:
        detail = scrub(f"{where}: {type(error).__name__}: {error}", secrets)
        return SendResult(ok=False, error=detail)
    if refused:
        # Delivered to the others: a retry would send them the message twice.
        return SendResult(ok=True, error=f"{where} refused {len(refused)} recipients")
    return SendResult(ok=True)
