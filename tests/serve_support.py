"""Starting ``msgavail serve`` as a real process on a loopback port, for the serve tests.

``ServeProcess.start(args, env)`` runs ``python -m validator.cli serve --port 0 ...``, waits for
its ``serving http://HOST:PORT (source ...)`` line on stderr (bounded) and exposes ``url``;
``stop()`` sends SIGTERM and returns the exit status, killing it only if it outlives the grace.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import typing as t

import httpx

SERVING = re.compile(r"^serving (http://(\S+):(\d+)) \(source (.*)\)$")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clean_env(home: str, **extra: str) -> dict[str, str]:
    """The environment for a server: none of the user's msgavail settings, a fake home.

    Coverage's settings (COVERAGE_PROCESS_CONFIG, set by scripts/coverage.sh) are kept so the
    server's own lines are measured; it stops on SIGTERM through a normal exit, which saves them.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MSGAVAIL_", "DATAVERSE_"))}
    env.update(
        HOME=home,
        XDG_CACHE_HOME=os.path.join(home, "no-cache-here"),
        XDG_DATA_HOME=os.path.join(home, "no-data-here"),
        PYTHONUNBUFFERED="1",
    )
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


class ServeProcess:
    def __init__(self, proc: subprocess.Popen[str], line: str) -> None:
        self.proc = proc
        self.line = line
        m = SERVING.match(line)
        assert m, f"unexpected first line on stderr: {line!r}"
        self.url = m.group(1)
        self.host = m.group(2)
        self.port = int(m.group(3))
        self.source = m.group(4)
        self.stderr_lines: list[str] = []
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    @classmethod
    def start(
        cls, args: t.Sequence[str], env: t.Mapping[str, str], *, timeout: float = 30.0
    ) -> ServeProcess:
        cmd = [sys.executable, "-m", "validator.cli", "serve", "--port", "0", *args]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env),
            cwd=ROOT,
        )
        lines: queue.Queue[str] = queue.Queue()

        def first_line() -> None:
            assert proc.stderr is not None
            lines.put(proc.stderr.readline())

        threading.Thread(target=first_line, daemon=True).start()
        try:
            line = lines.get(timeout=timeout).rstrip("\n")
        except queue.Empty:
            proc.kill()
            proc.communicate(timeout=5)
            raise AssertionError(f"msgavail serve did not start within {timeout} s") from None
        if not line.startswith("serving "):
            _out, err = proc.communicate(timeout=10)
            raise AssertionError(f"msgavail serve failed: {line}{err} (status {proc.returncode})")
        return cls(proc, line)

    def client(self, **kw: t.Any) -> httpx.Client:
        kw.setdefault("timeout", 10.0)
        return httpx.Client(base_url=self.url, **kw)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("msgavail serve did not stop on SIGTERM") from None
        self._drain.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode
