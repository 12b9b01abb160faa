"""An application running in the test process, and a client of it as one tenant."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port


@asynccontextmanager
async def serving(app: FastAPI, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app running (its lifespan: the embedded worker, if any), and a client of it."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://herald",
            headers={"Authorization": f"Bearer {key}"},
        ) as api,
    ):
        yield api


@asynccontextmanager
async def on_a_port(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """An app already running (its lifespan entered by the caller) served by uvicorn on a real
    port (`port`, or a free one), for what httpx's ASGI transport cannot do (it buffers a whole
    answer: no stream ever arrives); its base URL. Leaving the block closes the port."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,  # a stream still open does not hold the test's end
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
