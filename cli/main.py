"""``whistle``: raise whistles, act on cases, read them and run the engine.

The commands live by concern: ``cli.server`` (dev, serve, worker),
``cli.actions`` (what branches and departments do to a case), ``cli.plans``
(request-meeting, meeting, extend), ``cli.station`` (review-return,
redispatch, supervise, overdue), ``cli.reading`` (show, cases, policy), ``cli.org`` (org),
``cli.audit`` (audit), ``cli.stats`` (stats) and ``cli.admin`` (admin); their
shared options are in ``cli.options``, what else they share in
``cli.support``. This module only assembles them.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from cli import actions, notifications, org, plans, reading, server, station
from cli.admin import admin
from cli.audit import audit
from cli.notifications import notifications_app
from cli.roster import roster_app
from cli.stats import stats_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Durable whistle cases (吹哨报到): branches raise, departments report in and sign off.",
)

# engine
app.command()(server.dev)
app.command()(server.serve)
app.command()(server.worker)
# a branch
app.command("raise")(actions.raise_)
app.command()(actions.escalate)
app.command("request-meeting")(plans.request_meeting)
app.command()(actions.confirm)
app.command()(actions.reopen)
app.command()(actions.withdraw)
# a department (a unit)
app.command("report-in")(actions.report_in)
app.command("sign-off")(actions.sign_off)
app.command()(plans.extend)
# the street's station
app.command()(plans.meeting)
app.command("review-return")(station.review_return)
app.command()(station.redispatch)
app.command()(station.supervise)
app.command()(station.overdue)
# reading
app.command()(reading.show)
app.command()(reading.cases)
app.command()(reading.policy)
app.command()(org.org)
app.command()(notifications.notifier)
# groups
app.add_typer(admin, name="admin")
app.add_typer(audit, name="audit")
app.add_typer(stats_app, name="stats")
app.add_typer(notifications_app, name="notifications")
app.add_typer(roster_app, name="roster")


def main() -> None:
    """Entry point: run the command, then leave without interpreter teardown.

    The Temporal client's Rust threads can outlive the event loop, and CPython's
    finalization then aborts the process now and then (temporalio/sdk-python#300),
    turning a successful command into exit code -6. Everything is flushed first.
    """
    code = 0
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, str):
            sys.stderr.write(done.code + "\n")
            code = 1
        else:
            code = done.code or 0
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
