"""The namespace must know the cases' search attributes (models.search_attributes)
before a worker serves them: an upsert of an attribute it does not know fails
the workflow task, and every case would stall.

``ensure_search_attributes`` is what the worker runs at start: it registers the
missing ones (the Temporal operator service), or, where it may not (a cluster
whose operator keeps that right), stops with the ``temporal`` commands that do.
"""

from __future__ import annotations

from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from casework.connection import TemporalUnreachable
from models.errors import EngineUnavailable
from models.search_attributes import KEYS, type_name

log = structlog.get_logger("whistle.worker")


class SearchAttributesMissing(EngineUnavailable):
    """The namespace lacks the cases' search attributes and they cannot be added here."""


def create_commands(namespace: str, keys: tuple[SearchAttributeKey[Any], ...] = KEYS) -> list[str]:
    """The ``temporal`` CLI commands that register ``keys`` on ``namespace``."""
    return [
        f"temporal operator search-attribute create --namespace {namespace} "
        f"--name {key.name} --type {type_name(key)}"
        for key in keys
    ]


async def registered(client: Client, namespace: str) -> dict[str, int]:
    """The namespace's custom search attributes: name -> IndexedValueType."""
    answer = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(answer.custom_attributes)


async def register(
    client: Client, namespace: str, keys: tuple[SearchAttributeKey[Any], ...] = KEYS
) -> None:
    """Add ``keys`` to the namespace; those it already has are left as they are."""
    for key in keys:  # one at a time: one already there must not refuse the others
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=namespace,
                    search_attributes={
                        key.name: IndexedValueType.ValueType(key.indexed_value_type)
                    },
                )
            )
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS:
                raise


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Make sure ``namespace`` has every search attribute a case sets; returns the
    names it added. Raises SearchAttributesMissing, naming the commands an operator
    must run, when one is missing and may not be added, or has another type."""
    try:
        have = await registered(client, namespace)
    except RPCError as err:
        if err.status == RPCStatusCode.UNIMPLEMENTED:
            # The time-skipping test server cannot list them, only add them.
            await register(client, namespace)
            return [key.name for key in KEYS]
        if err.status == RPCStatusCode.PERMISSION_DENIED:
            # Credentials without the operator service: the operator has added them (the
            # README's commands) or cases stall until they do; never stop the worker here.
            log.warning(
                "search attributes not checked: listing them was refused",
                namespace=namespace,
                commands=create_commands(namespace),
            )
            return []
        raise TemporalUnreachable(f"cannot list search attributes: {err.message}") from None
    wrong = [k for k in KEYS if k.name in have and have[k.name] != k.indexed_value_type]
    if wrong:
        names = ", ".join(f"{k.name} (must be {type_name(k)})" for k in wrong)
        raise SearchAttributesMissing(
            f"namespace {namespace} has search attributes of another type: {names}; "
            "remove them (temporal operator search-attribute remove) and create them anew:\n"
            + "\n".join(create_commands(namespace, tuple(wrong)))
        )
    missing = tuple(k for k in KEYS if k.name not in have)
    if not missing:
        return []
    try:
        await register(client, namespace, missing)
    except RPCError as err:
        raise _missing(namespace, missing, f"adding them was refused: {err.message}") from None
    return [key.name for key in missing]


def _missing(
    namespace: str, keys: tuple[SearchAttributeKey[Any], ...], why: str
) -> SearchAttributesMissing:
    names = ", ".join(key.name for key in keys)
    return SearchAttributesMissing(
        f"namespace {namespace} lacks the search attributes whistle cases set ({names}) "
        f"and {why}. Ask the cluster's operator to run:\n"
        + "\n".join(create_commands(namespace, keys))
    )
