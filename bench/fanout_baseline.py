"""The baseline of fanout_bench: a plain aiohttp handler per SSE listener (StreamResponse + one
asyncio.Queue each), the textbook shape. ``POST /publish?t=…&seq=…`` encodes the event once and puts
it in every queue; each listener's task wakes and writes it.

Run by the coordinator: ``python bench/fanout_baseline.py PORT``.
"""

from __future__ import annotations

import asyncio
import resource
import sys

from aiohttp import web

LISTENERS = web.AppKey("listeners", set)


async def events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=256)
    listeners = request.app[LISTENERS]
    listeners.add(queue)
    try:
        while True:
            await response.write(await queue.get())
    except ConnectionError:
        pass
    finally:
        listeners.discard(queue)
    return response


async def publish(request: web.Request) -> web.Response:
    frame = b'event: bench\ndata: {"t":%s,"seq":%s}\n\n' % (
        request.query["t"].encode(),
        request.query["seq"].encode(),
    )
    for queue in request.app[LISTENERS]:
        if not queue.full():
            queue.put_nowait(frame)
    return web.json_response({"listeners": len(request.app[LISTENERS])})


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    app = web.Application()
    app[LISTENERS] = set()
    app.router.add_get("/api/v1/events", events)
    app.router.add_post("/publish", publish)
    app.router.add_get("/health", lambda request: web.json_response({"status": "ok"}))
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), print=None, backlog=4096, handler_cancellation=True
    )


if __name__ == "__main__":
    main()
