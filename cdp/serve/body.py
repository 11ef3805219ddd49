"""Reading a request body within a size limit and a time limit."""

from __future__ import annotations

import asyncio
import zlib

from starlette.requests import Request


class BodyError(Exception):
    """The body cannot be read: `status` (408, 413, 400) and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, at most `limit` bytes (after gzip, if the client sent it gzipped)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyError(413, f"the body is {int(declared)} bytes; the limit is {limit}")

    async def collect() -> bytes:
        chunks: list[bytes] = []
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise BodyError(413, f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        body = await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        raise BodyError(408, f"the body did not arrive within {timeout:g} s") from None
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise BodyError(400, f"unsupported Content-Encoding {encoding!r} (gzip or none)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise BodyError(400, "the body is not valid gzip") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise BodyError(413, f"the body is over the limit of {limit} bytes once unzipped")
    return plain
