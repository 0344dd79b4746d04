"""``bcone serve --workers N``: one SO_REUSEPORT socket per worker, supervised by the parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcone.core.serving import _listening_socket, check_port_free
from tests.browser_support import free_port


def test_a_port_held_by_another_program_is_refused() -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)), pytest.raises(OSError, match="in use"):
        check_port_free("127.0.0.1", port)
    check_port_free("127.0.0.1", port)  # free again once the other program let go


def test_workers_share_one_port_each_with_its_own_socket() -> None:
    port = free_port()
    first = _listening_socket("127.0.0.1", port, reuse_port=True)
    second = _listening_socket("127.0.0.1", port, reuse_port=True)
    try:
        assert first.getsockname() == second.getsockname()
        assert first.fileno() != second.fileno()
    finally:
        first.close()
        second.close()


def _children(pid: int) -> list[int]:
    """The worker processes of ``pid`` (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [c for c in children if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _get(port: int, path: str = "/healthz") -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return int(response.status)


def _wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    if not Path("/proc/self/task").exists():
        pytest.skip("needs Linux /proc to see the worker processes")
    port = free_port()
    env = dict(
        os.environ,
        BCONE_DATA_DIR=str(tmp_path / "data"),
        BCONE_ENVIRONMENT="development",
        BCONE_JOBS_MODE="queue",
    )
    env.pop("BCONE_DATABASE_URL", None)
    command = [sys.executable, "-m", "bcone.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen([*command, "--no-access-log"], env=env)
    try:
        _wait_for(lambda: len(_children(server.pid)) == 2 and _get(port) == 200)
        yield server, port
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def test_two_workers_serve_restart_when_killed_and_stop_together(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_workers
    workers = _children(server.pid)
    # Many connections, all answered (each lands on one of the two sockets).
    assert all(_get(port) == 200 for _ in range(20))

    os.kill(workers[0], signal.SIGKILL)
    _wait_for(lambda: workers[0] not in _children(server.pid) and len(_children(server.pid)) == 2)
    _wait_for(lambda: _get(port) == 200)

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    for pid in [*workers, *_children(server.pid)]:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
