"""Running the real ``asof`` program: in a pseudo-terminal, or at the end of a pipe.

Click's ``CliRunner`` has no terminal, so it cannot see what a progress bar does to
stdout; these helpers start the installed program as a user's shell would.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The installed console script, beside the interpreter running the tests.
ASOF = str(Path(sys.executable).with_name("asof"))


def asof_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment for the program: its own home, no archive, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASOF_")}
    env.update({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
        "ASOF_ARCHIVE_ENABLED": "false", "TERM": "xterm-256color", "COLUMNS": "100",
        "LINES": "30",
    })
    for key in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI"):
        env.pop(key, None)
    env.update(extra)
    return env


def run_in_pty(
    args: Sequence[str], env: Mapping[str, str], *, stdout: Path | None = None,
    timeout: float = 60.0, answer: bytes | None = None,
) -> tuple[int, str]:
    """Run ``asof ARGS`` with stdin and stderr on a pseudo-terminal (and stdout too,
    unless ``stdout`` names a file to redirect it to, as ``> file`` does); ``answer`` is
    typed on the terminal once the program shows a ``?`` prompt. Returns the exit code
    and everything the terminal showed."""
    master, slave = pty.openpty()
    out = open(stdout, "wb") if stdout is not None else None  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [ASOF, *args], stdin=slave, stdout=out if out is not None else slave,
            stderr=slave, env=dict(env), close_fds=True,
        )
    finally:
        os.close(slave)
        if out is not None:
            out.close()
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the terminal closed: the program ended
                    break
                if not chunk:
                    break
                shown.extend(chunk)
                if answer is not None and b"?" in shown:
                    os.write(master, answer)
                    answer = None
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, shown.decode("utf-8", "replace")


def run_piped(command: str, env: Mapping[str, str], *, timeout: float = 60.0,
              ) -> subprocess.CompletedProcess[str]:
    """Run a shell pipeline (``asof`` is ``$ASOF``) with ``pipefail``; its exit code is
    that of the first command that failed."""
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], env={**env, "ASOF": ASOF},
        capture_output=True, text=True, timeout=timeout, check=False,
    )
