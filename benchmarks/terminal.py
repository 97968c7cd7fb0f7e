"""Timing full-screen programs as a terminal sees them: run under a pseudo-terminal and note
when given text first appears in what they draw."""

from __future__ import annotations

import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence


def time_to_texts(
    command: Sequence[str], texts: Sequence[str], env: dict[str, str], *, size: tuple[int, int] = (120, 40),
    timeout: float = 60,
) -> list[float]:
    """Seconds from launch until each text first shows in the program's output, in order."""
    main, child = pty.openpty()
    columns, rows = size
    import fcntl

    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=child, stdout=child, stderr=child, env=env | {"TERM": "xterm-256color"},
        start_new_session=True, close_fds=True,
    )
    os.close(child)
    seen = b""
    found: list[float] = []
    try:
        while len(found) < len(texts):
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{texts[len(found)]!r} never appeared; output ended with {seen[-400:]!r}")
            ready, _, _ = select.select([main], [], [], 0.05)
            if not ready:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited ({process.returncode}): {seen[-400:]!r}")
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:
                chunk = b""
            seen += chunk
            while len(found) < len(texts) and texts[len(found)].encode() in seen:
                found.append(time.perf_counter() - start)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(main)
    return found
