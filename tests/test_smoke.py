from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.case import Confirm, ReportIn, SignOff
from models.policy import Policy
from tests.casekit import aid, do, raise_case, skip, until


async def test_emergency_resolved_and_confirmed(
    client: Client, env: WorkflowEnvironment, policy: Policy
) -> None:
    case_id = await raise_case(client, policy)
    r = await do(client, case_id, ReportIn(action_id=aid(), department="fire_rescue"))
    assert r.events[0].kind == "reported_in"
    await do(client, case_id, ReportIn(action_id=aid(), department="police"))
    r = await do(client, case_id, SignOff(action_id=aid(), department="fire_rescue", outcome="resolved"))
    assert r.status == "awaiting_confirmation"
    r = await do(client, case_id, Confirm(action_id=aid(), satisfaction=5))
    assert r.status == "closed"
    state = await client.get_workflow_handle(case_id).result()
    print([e.kind for e in state.events])
    await skip(env, seconds=1)
