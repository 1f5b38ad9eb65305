"""``whistle notifier`` as its own process, killed with SIGKILL in the middle of a
batch and started again: every delivery arrives (at least once, always under its
own id) and every one ends delivered. A bad channels file stops it at start."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models.tables import DeliveryRecord
from notify.runner import start_in_worker
from settings import Settings
from store.engine import make_engine
from tests.notifykit import SECRET, add_case, district, queue
from tests.receivers import Receiver, Reply

ROOT = Path(__file__).parent.parent
WHISTLE = str(Path(sys.executable).parent / "whistle")
CASES, PER_CASE = 10, 3


def _channels(path: Path, url: str) -> Path:
    path.write_text(
        f'[[channel]]\nname = "unit"\nkind = "webhook"\nfor = ["police"]\n'
        f'url = "{url}/unit"\nsecret = "{SECRET}"\nattempts = 20\n',
        encoding="utf-8",
    )
    return path


def _notifier(tmp: Path, db: Path, channels: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WHISTLE_DATABASE_URL": f"sqlite:///{db}",
        "WHISTLE_CHANNELS_FILE": str(channels),
        "WHISTLE_NOTIFY_LEASE_SECONDS": "2",
        "WHISTLE_LOG_LEVEL": "WARNING",
        "WHISTLE_DATA_DIR": str(tmp),
    }
    with (tmp / "notifier.log").open("ab") as log:
        return subprocess.Popen([WHISTLE, "notifier"], env=env, stdout=log, stderr=log, cwd=ROOT)


def _delivered(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(DeliveryRecord.status == "delivered")  # type: ignore[arg-type]
        return int(conn.execute(query).scalar_one())


def _wait(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_notifier_killed_mid_batch_loses_nothing(tmp_path: Path, receiver: Receiver) -> None:
    db = tmp_path / "whistle.db"
    engine = make_engine(f"sqlite:///{db}")
    district(engine)
    now = datetime.now(UTC)
    for i in range(CASES):
        add_case(engine, f"kill-{i}", raised_at=now, updated_at=now)
        queue(engine, f"kill-{i}", "police_anning", at=now, n=PER_CASE)
    receiver.script = [Reply(delay=0.4) for _ in range(CASES * PER_CASE)]  # slow: kill mid-batch
    channels = _channels(tmp_path / "channels.toml", receiver.url)
    first = _notifier(tmp_path, db, channels)
    _wait(lambda: len(receiver.seen) >= 5, 30)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert _delivered(engine) < CASES * PER_CASE  # it died with work in hand
    second = _notifier(tmp_path, db, channels)
    try:
        _wait(lambda: _delivered(engine) == CASES * PER_CASE, 90)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0  # a clean stop on SIGTERM
    ids = receiver.delivery_ids()
    assert len(set(ids)) == CASES * PER_CASE  # every one arrived; repeats share the id
    engine.dispose()


def test_a_bad_channels_file_stops_the_notifier_at_start(tmp_path: Path) -> None:
    channels = tmp_path / "channels.toml"
    channels.write_text(
        '[[channel]]\nname = "x"\nkind = "webhook"\nfor = ["*"]\nurl = "ftp://x"\nsecret = "s"\n'
    )
    make_engine(f"sqlite:///{tmp_path / 'whistle.db'}").dispose()
    process = _notifier(tmp_path, tmp_path / "whistle.db", channels)
    assert process.wait(timeout=60) == 2
    log = (tmp_path / "notifier.log").read_text()
    assert 'channel "x"' in log and "url" in log


async def test_the_worker_keeps_a_notifier_beside_it(tmp_path: Path, receiver: Receiver) -> None:
    """The dispatcher the worker starts is a child process: killed, it is started
    again; stopped with the worker, it goes."""
    db = tmp_path / "whistle.db"
    engine = make_engine(f"sqlite:///{db}")
    district(engine)
    now = datetime.now(UTC)
    add_case(engine, "beside-1", raised_at=now, updated_at=now)
    queue(engine, "beside-1", "police_anning", at=now)
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{db}",
        channels_file=_channels(tmp_path / "channels.toml", receiver.url),
        notify_lease_seconds=2,
    )
    stop = asyncio.Event()
    task = start_in_worker(settings, stop)
    assert task is not None
    try:
        await _until(lambda: len(receiver.seen) == 1, 60)
        (child,) = _children()
        os.kill(child, signal.SIGKILL)
        queue(engine, "beside-1", "police_anning", kind="reminder", at=datetime.now(UTC))
        await _until(lambda: len(receiver.seen) == 2, 60)  # a new child sent it
        assert _children() and _children() != [child]
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    assert _children() == []
    assert not start_in_worker(Settings(data_dir=tmp_path), stop)  # no channels: no child
    engine.dispose()


def _children() -> list[int]:
    """This process's live ``whistle notifier`` children."""
    mine = str(os.getpid())
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next(line.split()[1] for line in text.splitlines() if line.startswith("PPid:"))
        state = next(line.split()[1] for line in text.splitlines() if line.startswith("State:"))
        if parent == mine and b"notifier" in cmdline and state != "Z":
            found.append(int(status.parent.name))
    return found


async def _until(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
