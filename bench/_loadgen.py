"""A small HTTP/1.1 keep-alive load generator on asyncio, for loopback benchmarks.

It sends the same GET over ``concurrency`` persistent connections for ``seconds`` and records
each request's latency. Written on raw asyncio streams so that the client costs far less CPU
than the server it measures (an HTTP library would saturate a core before the server does).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        k = min(len(data) - 1, max(0, round(q / 100 * (len(data) - 1))))
        return data[k]

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, request: bytes, deadline: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            elapsed = (time.perf_counter() - start) * 1000
            if status == 200:
                result.requests += 1
                result.latencies_ms.append(elapsed)
            else:
                result.errors += 1
    finally:
        writer.close()


async def _run(
    host: str, port: int, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> LoadResult:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    result = LoadResult(0, 0, seconds, [])
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(_connection(host, port, request, deadline, result) for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


def run_load(
    host: str, port: int, path: str, *, headers: dict[str, str], concurrency: int, seconds: float
) -> LoadResult:
    """Hammer ``GET path`` and return throughput and latencies."""
    return asyncio.run(_run(host, port, path, headers, concurrency, seconds))
