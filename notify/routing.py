"""Which channels serve a recipient: a channel's ``for`` against who a notification is for."""

from __future__ import annotations

from collections.abc import Sequence

from models.notify import DUTY, EVERYONE, Recipient
from notify.channels import Channel


def serves(channel: Channel, recipient: Recipient) -> bool:
    """Whether ``channel``'s ``for`` names ``recipient``: everyone, its name or its unit's
    kind; a person on duty only by ``duty`` or ``duty:UNIT`` (``*`` has the unit's own)."""
    if recipient.on_duty:
        return any(entry in (DUTY, recipient.name) for entry in channel.for_)
    return any(
        entry in (EVERYONE, recipient.name)
        or (recipient.kind is not None and entry == recipient.kind)
        for entry in channel.for_
    )


def channels_for(channels: Sequence[Channel], recipient: Recipient) -> list[Channel]:
    """The channels serving ``recipient``, in file order."""
    return [channel for channel in channels if serves(channel, recipient)]
