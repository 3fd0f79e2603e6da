"""``tokendice db check|repair``: the app database from the command line (parsing and printing only).

``check`` reads every page and says whether the database is damaged (exit status 1 when it is).
``repair`` moves a damaged database aside, keeping it as it was, and starts a new one with everything that
can still be read (core/store/repair.py); a database that is not damaged is left alone. The sentence of a
damaged database names this command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.cli.io import print_json

COMMAND = "db"


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    db = sub.add_parser(COMMAND, help="check or repair the app database (chats, library, presets)")
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    json_flag(dsub.add_parser("check", help="read every page of the database and say if one is damaged"))
    json_flag(
        dsub.add_parser(
            "repair",
            help="move a damaged database aside (a copy is kept) and start a new one with what can be read",
        )
    )
    return {COMMAND: cmd_db}


def cmd_db(args: argparse.Namespace) -> int:
    from desktop_app.core.services import Services
    from desktop_app.core.store.db_errors import REPAIR_COMMAND, damaged_sentence
    from desktop_app.core.store.repair import database_problem
    from desktop_app.paths import AppPaths

    paths = AppPaths.from_env()
    if args.db_command == "check":
        exists = paths.db_path.is_file()
        problem = database_problem(paths.db_path) if exists else None
        if problem is not None:
            message = damaged_sentence(paths.db_path, problem)
        elif exists:
            message = f"The database {paths.db_path} reads without errors."
        else:
            message = f"There is no database at {paths.db_path} yet; TokenDice makes one when it starts."
        if args.json:
            damaged = problem is not None
            print_json(
                {
                    "database": str(paths.db_path),
                    "damaged": damaged,
                    "problem": problem,
                    "message": message,
                    "repair": REPAIR_COMMAND if damaged else None,
                }
            )
        elif problem is not None:
            print(f"tokendice: error: {message}", file=sys.stderr)
        else:
            print(message)
        return 1 if problem is not None else 0
    report = Services.repair(paths)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.sentence())
    return 0
