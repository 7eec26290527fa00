"""Reading a request the way Slack's Web API does: a bearer token, arguments from the query
string, a form or JSON alike, and the bytes of an upload."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

Json = dict[str, Any]
# Params that slack_sdk form-encodes as JSON strings; decoded so recorded args are inspectable.
JSON_PARAMS = ("blocks", "attachments", "view", "files", "metadata")


def bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth.startswith("Bearer ") else None


async def read_args(request: web.Request) -> Json:
    """Merge query string, form and JSON bodies the way Slack accepts all three."""
    args: Json = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        else:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in JSON_PARAMS:
        if isinstance(args.get(key), str) and args[key][:1] in ("[", "{"):
            try:
                args[key] = json.loads(args[key])
            except json.JSONDecodeError:
                pass  # leave it as sent; the method will complain like Slack would
    return args


async def read_upload(request: web.Request) -> bytes:
    """The bytes of an upload: raw body (slack_sdk) or the first multipart file part."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader):
                return bytes(await part.read())
        return b""
    return await request.read()
