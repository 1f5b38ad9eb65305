"""For the workbench's tests: an organisation in force with people who sign in by
password, the workbench served on loopback, and reading its forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, func, select
from temporalio.client import Client

from models.policy import Policy
from models.tables import OrganisationActivationRecord
from settings import Settings
from store.org import activate_org
from store.principals import add_principal, get_principal
from store.sign_in import set_password
from tests.apikit import serve_api
from tests.casekit import TASK_QUEUE
from tests.test_station_api import streets_org

PASSWORD = "correct horse battery"

# role -> (kind, compounds, unit, street); names are "<role>-web".
PEOPLE: dict[str, tuple[str, list[str], str | None, str | None]] = {
    "branch": ("branch", ["Anningyuan"], None, None),
    "other_branch": ("branch", ["Xiangyang"], None, None),
    "station": ("station", [], None, "s1"),
    "other_station": ("station", [], None, "s2"),
    "fire": ("department", [], "fire_rescue_1", None),
    "police": ("department", [], "police_a", None),
    "auditor": ("auditor", [], None, None),
}


def name_of(role: str) -> str:
    return f"{role.replace('_', '-')}-web"


@pytest.fixture(scope="module")
def people(engine: Engine, policy: Policy) -> Iterator[dict[str, str]]:
    """The two-street organisation in force (for this module only) and its people,
    each with ``PASSWORD``: role -> name."""
    with Session(engine) as session:
        before = session.exec(select(func.max(col(OrganisationActivationRecord.id)))).one() or 0
    activate_org(engine, streets_org(policy))
    for role, (kind, compounds, unit, street) in PEOPLE.items():
        name = name_of(role)
        if get_principal(engine, name) is None:  # an earlier module's, else new
            add_principal(
                engine, name=name, kind=kind, compounds=compounds, department=unit, street=street
            )
        set_password(engine, name, PASSWORD)  # and any lockout of an earlier module lifted
    yield {role: name_of(role) for role in PEOPLE}
    with Session(engine) as session:
        session.exec(
            delete(OrganisationActivationRecord).where(
                col(OrganisationActivationRecord.id) > before
            )
        )
        session.commit()


@pytest_asyncio.fixture(scope="module")
async def site(
    client: Client, engine: Engine, people: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The workbench (and API) on loopback, keeping evidence in a fresh directory."""
    data_dir: Path = tmp_path_factory.mktemp("workbench")
    settings = Settings(task_queue=TASK_QUEUE, data_dir=data_dir)
    async with serve_api(client, engine, settings) as url:
        yield url


class _Forms(HTMLParser):
    """Each form's action and its hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((found.get("action", ""), {}))
        elif tag == "input" and found.get("type") == "hidden" and self.forms:
            self.forms[-1][1][found.get("name", "")] = found.get("value", "")


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, form key) of the page's form posting to ``action``."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if form_action == action:
            return fields
    raise AssertionError(f"no form posting to {action!r} on the page")


@dataclass
class Person:
    """Someone at the workbench: an HTTP session with its cookies."""

    http: httpx.AsyncClient

    async def form(
        self, page: str, action: str, fields: dict[str, str], **kw: object
    ) -> httpx.Response:
        """Open ``page``, fill the form posting to ``action`` and send it."""
        shown = await self.http.get(page)
        assert shown.status_code == 200, shown.text
        data = hidden_fields(shown.text, action) | fields
        return await self.http.post(action, data=data, **kw)  # type: ignore[arg-type]


async def sign_in(
    site: str, name: str, password: str = PASSWORD, *, via: str | None = None
) -> tuple[Person, httpx.Response]:
    """Sign ``name`` in; ``via``: the client's address, as a trusted proxy on loopback
    passes it (X-Forwarded-For), else loopback's own."""
    headers = {"X-Forwarded-For": via} if via else {}
    http = httpx.AsyncClient(base_url=site, timeout=30, headers=headers)
    person = Person(http)
    answer = await person.form("/login", "/login", {"name": name, "password": password})
    return person, answer


def text_of(html: str) -> str:
    """The page's text, tags dropped: what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
