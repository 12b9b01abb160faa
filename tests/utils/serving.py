"""An application running in the test process, and a client of it as one tenant."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


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
