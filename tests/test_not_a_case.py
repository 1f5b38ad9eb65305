"""A workflow of another type in the namespace is no case: reading it answers "no
case" (404). A case whose query fails (its worker cannot answer just now) is
unavailable instead (503, ask again): a case must never be reported missing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from bench.trivial import Trivial, noop
from casework.cases import read_case
from models.errors import CaseNotFound

QUEUE = "not-cases"


async def test_another_workflow_type_is_no_case(client: Client) -> None:
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            client,
            task_queue=QUEUE,
            workflows=[Trivial],
            activities=[noop],
            activity_executor=executor,
        ):
            workflow_id = f"not-a-case-{uuid.uuid4().hex[:8]}"
            handle = await client.start_workflow(Trivial.run, 1, id=workflow_id, task_queue=QUEUE)
            await handle.result()
            with pytest.raises(CaseNotFound, match="no case"):
                await read_case(client, workflow_id)
