"""Reading requests the way the protocols say: body size limits, media types, UTF-8, forms,
and the bearer token that guards writes."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import parse_qsl

from fastapi import Request

from carbonkg.server.problems import Problem
from carbonkg.server.settings import Settings

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


def content_type(request: Request) -> tuple[str | None, dict[str, str]]:
    """The request's media type (lower-cased essence) and its parameters; (None, {}) if absent."""
    header = request.headers.get("content-type")
    if not header or not header.strip():
        return None, {}
    essence, *params = header.split(";")
    parameters = {}
    for param in params:
        key, _, value = param.partition("=")
        parameters[key.strip().lower()] = value.strip().strip('"')
    return essence.strip().lower(), parameters


def require_utf8(essence: str, parameters: dict[str, str]) -> None:
    charset = parameters.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise Problem(
            415,
            "Unsupported media type",
            f"{essence} with charset={charset} is not supported: send the body in UTF-8",
            slug="unsupported-media-type",
        )


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Content too large",
        f"the request body is larger than this server's limit of {limit} bytes",
        slug="content-too-large",
        limit_bytes=limit,
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large(limit)
        except ValueError:
            raise Problem(400, "Bad request", "the Content-Length header is not a number", slug="bad-request") from None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(
            400,
            "Bad request",
            f"the {what} is not valid UTF-8 (at byte offset {exc.start})",
            slug="bad-request",
        ) from None


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """Fields of an ``application/x-www-form-urlencoded`` body (UTF-8), in order, repeats kept."""
    text = decode_utf8(body, "form")
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Problem(400, "Bad request", "a form field is not valid UTF-8 once percent-decoded", slug="bad-request") from None


def values(fields: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in fields if k == name]


def one_operation(fields: Sequence[tuple[str, str]], name: str, where: str) -> str | None:
    """The single ``query``/``update`` field; 400 when repeated."""
    found = values(fields, name)
    if len(found) > 1:
        raise Problem(
            400,
            "Bad request",
            f"a request carries one {name}; this one has {len(found)} `{name}` parameters ({where})",
            slug="bad-request",
        )
    return found[0] if found else None


def require_writer(request: Request, settings: Settings) -> None:
    """403 when writes are disabled, 401 without the right bearer token."""
    if not settings.allow_update:
        raise Problem(
            403,
            "Updates disabled",
            "this service is read-only: SPARQL Update and Graph Store writes are disabled "
            "(CARBONKG_ALLOW_UPDATE)",
            slug="updates-disabled",
        )
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings.update_token.get_secret_value() if settings.update_token else ""
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "Authentication required",
            "writes need an `Authorization: Bearer <token>` header",
            slug="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="carbonkg"'},
        )
    if not expected or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Problem(
            401,
            "Authentication required",
            "the bearer token is not valid",
            slug="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="carbonkg", error="invalid_token"'},
        )
