"""One sender per channel kind: ``send`` hands a delivery to its channel.

Never raises for a channel's failure: every outcome is a ``SendResult`` (see
``notify.outcomes`` for what is retried).
"""

from __future__ import annotations

import httpx

from models.notify import Outgoing, SendResult
from notify.channels import (
    Channel,
    DingTalkChannel,
    EmailChannel,
    SmsChannel,
    WebhookChannel,
    WeComChannel,
)
from notify.senders_http import send_dingtalk, send_sms, send_webhook, send_wecom
from notify.senders_mail import send_email


async def send(channel: Channel, out: Outgoing, http: httpx.AsyncClient) -> SendResult:
    """Send ``out`` through ``channel``; ``http`` serves the HTTP kinds."""
    if isinstance(channel, WebhookChannel):
        return await send_webhook(channel, out, http)
    if isinstance(channel, WeComChannel):
        return await send_wecom(channel, out, http)
    if isinstance(channel, DingTalkChannel):
        return await send_dingtalk(channel, out, http)
    if isinstance(channel, SmsChannel):
        return await send_sms(channel, out, http)
    assert isinstance(channel, EmailChannel)
    return await send_email(channel, out)
