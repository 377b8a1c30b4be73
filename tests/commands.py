"""`python -m service ...` for the tests, in this process or as a real one.

`cli` runs the command line in this process with click's own test runner: the same
`service.cli.main`, arguments, standard input, environment and exit code, in a few milliseconds
instead of the second and a half a new interpreter takes to import the service (the SQLite
pass runs 79 commands). `cli_process` starts the real `python -m service`, for the tests of the
entry point itself and of a command reaching another process (a running server).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from click.testing import CliRunner

from service.cli import main
from service.settings import ROOT, get_settings


@dataclass(frozen=True)
class Finished:
    """How a command ended, as `subprocess.CompletedProcess` tells it."""

    returncode: int
    stdout: str
    stderr: str


def cli(env: Mapping[str, str], *args: str, stdin: str = "") -> Finished:
    """Run `python -m service ARGS` in this process, with `env` set while it runs (on top of
    the test's own environment, where a real process would see only `env` and PATH).

    An exception the command line does not turn into its one-line error fails the test here,
    with its traceback, as it would have printed one from a real process.
    """
    if args[:1] == ("serve",):
        raise ValueError("`serve` runs until stopped: use `cli_process`")
    get_settings.cache_clear()  # the settings are read once per process: read them from `env`
    try:
        result = CliRunner().invoke(
            main, list(args), input=stdin, env=dict(env), catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()
    return Finished(result.exit_code, result.stdout, result.stderr)


def cli_process(env: Mapping[str, str], *args: str, stdin: str = "") -> Finished:
    """Run `python -m service ARGS` as a new process with only `env` (and PATH) set."""
    done = subprocess.run(
        [sys.executable, "-m", "service", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
        check=False,
    )
    return Finished(done.returncode, done.stdout, done.stderr)
