"""Answers as HTTP responses: the body streamed from the worker's spool file in chunks, and the
result limit announced in headers.

Headers on every query answer:

- ``Carbonkg-Result-Limit``: the most solutions or triples an answer carries (``max_results``);
- ``Carbonkg-Result-Count``: how many this one carries;
- ``Carbonkg-Result-Truncated: true``: only when the limit cut the answer short. The body then says
  so too where the format has room (JSON and XML results, Turtle, N-Triples, RDF/XML; see
  :func:`carbonkg.server.execute._mark`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from carbonkg.server.conneg import ALL_FORMATS
from carbonkg.server.execute import Answer
from carbonkg.server.settings import Settings

CHUNK_BYTES = 64 * 1024
RESULT_HEADERS = ("Carbonkg-Result-Limit", "Carbonkg-Result-Count", "Carbonkg-Result-Truncated")


def _chunks(path: str) -> Iterator[bytes]:
    """The file in chunks; removed once sent, or once the client has gone (generator closed)."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                yield chunk
    finally:
        _unlink(path)


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def answer_response(answer: Answer, settings: Settings, *, head: bool = False, status: int = 200) -> Response:
    fmt = ALL_FORMATS[answer.format or "json"]
    headers = {
        "Vary": "Accept",
        "Carbonkg-Result-Limit": str(settings.max_results),
        "Carbonkg-Result-Count": str(answer.count),
    }
    if answer.truncated:
        headers["Carbonkg-Result-Truncated"] = "true"
    if answer.path is not None:
        headers["Content-Length"] = str(answer.size)
        if head:
            _unlink(answer.path)
            return Response(status_code=status, headers=headers, media_type=fmt.media_type)
        return StreamingResponse(
            _chunks(answer.path),
            status_code=status,
            headers=headers,
            media_type=fmt.media_type,
            background=BackgroundTask(_unlink, answer.path),  # also when the body was never iterated
        )
    body = answer.data or b""
    if head:
        headers["Content-Length"] = str(len(body))
        return Response(status_code=status, headers=headers, media_type=fmt.media_type)
    return Response(body, status_code=status, headers=headers, media_type=fmt.media_type)
