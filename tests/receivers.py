"""The local HTTP receiver (``bench.receiver``) as a fixture for the notification tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.receiver import Receiver, Reply, Seen

__all__ = ["Receiver", "Reply", "Seen", "receiver"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.close()
