"""``tokendice``: the command line, one module per command group.

:mod:`.dispatch` builds the parser and runs a command; :mod:`.errors` holds :class:`~.errors.CliError`
and the exit statuses; :mod:`.engine` (probs, generate, …), :mod:`.models`, :mod:`.hub` and
:mod:`.download` (the models commands), :mod:`.db`, :mod:`.desktop` (install-desktop-entry) add their
commands; :mod:`.args` checks every numeric flag's range; :mod:`.io` handles undecodable text and closed
pipes; :mod:`.guard` runs the commands that load a model in a child process.

Only :func:`main` is here: the entry point of ``tokendice``, ``python -m desktop_app`` and the bundle.
"""

from desktop_app.cli.dispatch import main

__all__ = ["main"]
