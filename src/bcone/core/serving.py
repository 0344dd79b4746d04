"""Serving the application over HTTP with one or several processes.

One process (the default) is plain ``uvicorn.run``. Several processes each bind their own
listening socket to the same address with ``SO_REUSEPORT``: the kernel then spreads new
connections evenly across the processes by a hash of each connection's addresses. With one
shared socket (``uvicorn --workers``) the process that happens to be awake accepts every
connection of a burst, so a client with a few keep-alive connections (a gateway, a load
generator) may load one process while the others idle. The parent process supervises the
workers: a worker that dies is started again; SIGINT or SIGTERM stops them all.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

RESTART_PAUSE_S = 1.0


def _listening_socket(host: str, port: int, *, reuse_port: bool, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def check_port_free(host: str, port: int) -> None:
    """Raise ``OSError`` if another program listens on ``host:port``.

    Workers share the port with ``SO_REUSEPORT``, which would also let them share it silently
    with an unrelated server of the same user; a plain bind first refuses that case.
    """
    _listening_socket(host, port, reuse_port=False, backlog=1).close()


def _worker(app: str, host: str, port: int, log_level: str, access_log: bool) -> None:
    import uvicorn

    sock = _listening_socket(host, port, reuse_port=True)
    config = uvicorn.Config(app, factory=True, log_level=log_level, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    app: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    reload: bool = False,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve the application factory ``app`` (``"module:function"``) until interrupted."""
    if workers <= 1 or reload:
        import uvicorn

        uvicorn.run(
            app,
            factory=True,
            host=host,
            port=port,
            reload=reload,
            log_level=log_level,
            access_log=access_log,
        )
        return
    check_port_free(host, port)
    _supervise(app, host, port, workers, log_level, access_log)


def _supervise(app: str, host: str, port: int, workers: int, log_level: str, access_log: bool) -> None:
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(
            target=_worker, args=(app, host, port, log_level, access_log), name="bcone-worker"
        )
        process.start()
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    print(f"bcone: {workers} worker processes on http://{host}:{port} (SO_REUSEPORT)", flush=True)
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    print(f"bcone: worker {process.pid} exited ({process.exitcode}); restarting", flush=True)
                    time.sleep(RESTART_PAUSE_S)
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
