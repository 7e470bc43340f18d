"""Errors as the spec writes them: `[{"code": 400, "description": "…"}]` (or <errors> in XML)."""

from __future__ import annotations

from aiohttp import web

from api.formats import render_errors, suffix_format


class ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def bad(field: str, why: str) -> ApiError:
    """A 400 that names the field."""
    return ApiError(400, f"{field}: {why}")


@web.middleware
async def spec_errors(request: web.Request, handler):
    fmt = suffix_format(request.path)
    try:
        return await handler(request)
    except ApiError as exc:
        return render_errors(fmt, exc.status, exc.description)
    except web.HTTPException as exc:  # aiohttp's own (404, 405, 413): the spec's body too
        if exc.status < 400:
            raise
        return render_errors(fmt, exc.status, exc.reason)
