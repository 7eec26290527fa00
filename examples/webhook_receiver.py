"""A tiny deployer to try webhook pipelines locally (stdlib + aiohttp, which the bot installs).

    python examples/webhook_receiver.py --secret "$BIZDEVOPS_WEBHOOK_SECRET" --port 8099

It verifies every job's signature exactly as a real deployer should, then answers:
  /hooks/staging  202 at once, and calls the job's callback_url back (signed) a moment later;
  /hooks/deploy   a synchronous {"status": "succeeded"} for each wave;
  /hooks/health   succeeded, unless the wave's targets include one named in --unhealthy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
from aiohttp import web

from bot.executors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify


def build(secret: str, unhealthy: set[str]) -> web.Application:
    pending: set[asyncio.Task[None]] = set()

    async def read_job(request: web.Request) -> dict[str, object] | None:
        body = await request.read()
        ok = verify(secret, request.headers.get(TIMESTAMP_HEADER),
                    request.headers.get(SIGNATURE_HEADER), body, now=time.time())
        return json.loads(body) if ok else None

    async def call_back(url: str, result: dict[str, str]) -> None:
        await asyncio.sleep(0.5)
        body = json.dumps(result).encode()
        stamp = int(time.time())
        headers = {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(secret, stamp, body),
                   "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as session, session.post(url, data=body,
                                                                     headers=headers) as reply:
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
