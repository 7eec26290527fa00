"""A tiny deployer to try webhook pipelines locally (stdlib + aiohttp, which the bot installs:
run it with the project's Python, .venv/bin/python after `python3 scripts/dev.py`).

    .venv/bin/python examples/webhook_receiver.py --secret "$BIZDEVOPS_WEBHOOK_SECRET" --port 8099

It verifies every job's signature exactly as a real deployer should, then answers:
  /hooks/staging  202 at once, and calls the job's callback_url back (signed) a moment later;
  /hooks/deploy   a synchronous {"status": "succeeded"} for each wave;
  /hooks/health   succeeded, unless the wave's targets include one named in --unhealthy.

The two signatures, both ``sha256=<hex HMAC-SHA256>`` with the shared secret:
  a job the bot sends:      over "<X-Bizdevops-Timestamp>.<body>";
  a callback to the bot:    over "<X-Bizdevops-Timestamp>.<path and query>.<body>", where the path
                            and query are those of callback_url, used exactly as given.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

TIMESTAMP_HEADER = "X-Bizdevops-Timestamp"
SIGNATURE_HEADER = "X-Bizdevops-Signature"
WINDOW = 300  # seconds either way


def mac(secret: str, *parts: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), b".".join(parts), hashlib.sha256).hexdigest()


def job_is_genuine(secret: str, timestamp: str, signature: str, body: bytes) -> bool:
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(int(time.time()) - int(timestamp)) > WINDOW:
        return False  # stale, or a replay
    return hmac.compare_digest(mac(secret, timestamp.encode(), body), signature)


def callback_headers(secret: str, callback_url: str, body: bytes) -> dict[str, str]:
    """Sign a result for the one step whose callback_url it is posted to."""
    parts = urlsplit(callback_url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    stamp = str(int(time.time()))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: mac(secret, stamp.encode(), path.encode(), body),
            "Content-Type": "application/json"}


def build(secret: str, unhealthy: set[str], *, delay: float = 0.5) -> web.Application:
    pending: set[asyncio.Task[None]] = set()

    async def read_job(request: web.Request) -> dict[str, object] | None:
        body = await request.read()
        ok = job_is_genuine(secret, request.headers.get(TIMESTAMP_HEADER, ""),
                            request.headers.get(SIGNATURE_HEADER, ""), body)
        return json.loads(body) if ok else None

    async def call_back(url: str, result: dict[str, str]) -> None:
        await asyncio.sleep(delay)
        body = json.dumps(result).encode()
        async with aiohttp.ClientSession() as session, session.post(
                url, data=body, headers=callback_headers(secret, url, body)) as reply:
            print(f"callback {url} -> HTTP {reply.status}", flush=True)

    async def hook(request: web.Request) -> web.Response:
        job = await read_job(request)
        if job is None:
            return web.json_response({"error": "bad signature"}, status=401)
        name = request.match_info["name"]
        targets = list(job.get("targets") or [])  # type: ignore[call-overload]
        print(f"{name}: {job['use_case']} {job['version']} stage={job['stage']} "
              f"wave={job['wave']} targets={len(targets)}", flush=True)
        if name == "staging":
            task = asyncio.create_task(call_back(str(job["callback_url"]), {
                "status": "succeeded", "detail": "staging is serving the new version"}))
            pending.add(task)
            task.add_done_callback(pending.discard)
            return web.json_response({"accepted": True}, status=202)
        if name == "health" and unhealthy & set(targets):
            return web.json_response({"status": "failed", "detail": "error rate above 2%"})
        return web.json_response({"status": "succeeded", "detail": f"{len(targets)} targets ok"})

    app = web.Application()
    app.router.add_post("/hooks/{name}", hook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--unhealthy", default="", help="comma-separated target names")
    args = parser.parse_args()
    unhealthy = {t for t in args.unhealthy.split(",") if t}
    web.run_app(build(args.secret, unhealthy), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
