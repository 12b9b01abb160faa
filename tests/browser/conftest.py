"""Browser tests: Playwright driving Debian's Chromium against Herald served on a real port.

Shared by every browser test (the inbox widget's, the dashboard's):
- `browser`: one headless Chromium per session; the tests SKIP, saying why, only when no
  Chromium can be found (`make test` installs Debian's package when it runs as root).
- `new_page` / `page`: pages whose console errors and uncaught exceptions fail the test
  (`console.allow(pattern)` for an error a test provokes on purpose).
- `assert_accessible(page)`: axe-core injected into the page; no serious or critical violation.
- `screenshot(page, name)`: saved under tests/artifacts/screenshots/ (gitignored), and copied to
  docs/screenshots/ when HERALD_SCREENSHOTS_TO_DOCS is set (`make screenshots`).
- `served`: Herald on a real port (uvicorn), a tenant, and its client; `host_pages`: a second
  little HTTP server, another origin, for the pages that embed Herald.
"""

import os
import re
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.conftest import Stack
from tests.utils.serving import on_a_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
SERIOUS = ("serious", "critical")


# ---------------------------------------------------------------- the browser


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = candidate if Path(candidate).is_file() else shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium found (looked for /usr/bin/chromium, chromium, chromium-browser): "
            "install Debian's package (`apt-get install chromium`; `make test` does as root)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of the test's pages: any not allowed fails it."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """An error the test provokes on purpose (a 401 it expects, say)."""
        self.allowed.append(re.compile(pattern))

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"console: {message.text} ({message.location.get('url')})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser, console: ConsoleWatch) -> AsyncIterator[NewPage]:
    """Opens a page in a context of its own (another browser profile: nothing shared but the
    server), e.g. `await new_page(viewport={"width": 375, "height": 740})`, or another tab
    beside one (`await new_page(beside=page)`)."""
    contexts = []

    async def open_page(beside: Page | None = None, **context_options: Any) -> Page:
        """`beside`: a second tab of that page's window (the same context)."""
        if beside is not None:
            page = await beside.context.new_page()
            console.watch(page)
            return page
        options = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"} | context_options
        context = await browser.new_context(**options)
        contexts.append(context)
        page = await context.new_page()
        console.watch(page)
        return page

    yield open_page
    for context in contexts:
        await context.close()
    unexpected = console.unexpected()
    assert not unexpected, "the page logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
async def page(new_page: NewPage) -> Page:
    return await new_page()


# ---------------------------------------------------------------- axe-core


def axe_source() -> str:
    """axe-core's script, from npm into .tools/ by the Makefile (`make axe`, part of `make
    tools`), fetched now if a test runs before make did."""
    found = sorted(ROOT.glob(".tools/axe-core-*/axe.min.js"))
    if not found:
        subprocess.run(["make", "-s", "axe"], cwd=ROOT, check=True)
        found = sorted(ROOT.glob(".tools/axe-core-*/axe.min.js"))
    return found[-1].read_text()


async def assert_accessible(page: Page, what: str, include: str | None = None) -> dict:
    """axe-core over the page (open shadow roots included), or over `include` (a CSS
    selector): no serious or critical violation. Returns axe's results."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source())
    results = await page.evaluate(
        """async (include) => await axe.run(include ? {include: [include]} : document,
                                             {resultTypes: ["violations"]})""",
        include,
    )
    serious = [v for v in results["violations"] if v["impact"] in SERIOUS]
    assert not serious, f"axe-core, {what}:\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']} at "
        + "; ".join(str(n["target"]) + " " + n.get("failureSummary", "") for n in v["nodes"])
        for v in serious
    )
    return results


# ---------------------------------------------------------------- screenshots


async def screenshot(page: Page, name: str, **options: Any) -> Path:
    """tests/artifacts/screenshots/<name>.png; copied to docs/screenshots/ as well when
    HERALD_SCREENSHOTS_TO_DOCS is set."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), animations="disabled", caret="hide", **options)
    if os.environ.get("HERALD_SCREENSHOTS_TO_DOCS"):
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
    return path


# ---------------------------------------------------------------- servers


@dataclass
class Served:
    """Herald listening on a real port (what the browser calls), over a Stack."""

    stack: Stack
    base_url: str


@asynccontextmanager
async def serving_on_a_port(stack: Stack, port: int | None = None) -> AsyncIterator[Served]:
    """The stack's application (already running: its lifespan is the stack's) on uvicorn, on
    `port` or a free one. Leaving the block stops the server and closes its connections."""
    assert stack.app is not None
    async with on_a_port(stack.app, port) as base_url:
        yield Served(stack, base_url)


@pytest.fixture
async def served(make_stack, temporal_env) -> AsyncIterator[Served]:
    async with make_stack(temporal_env) as stack, serving_on_a_port(stack) as running:
        yield running


class HostPages:
    """A second origin: a plain HTTP server (`http://localhost:<port>`, while Herald is on
    127.0.0.1) serving the pages (and scripts) a test puts there."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.content_types: dict[str, str] = {}
        content_types = self.content_types
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/favicon.ico":  # asked for by every page: none, and no error
                    self.send_response(204)
                    self.end_headers()
                    return
                body = pages.get(path)
                if body is None:
                    self.send_error(404)
                    return
                encoded = body.encode()
                self.send_response(200)
                self.send_header(
                    "Content-Type", content_types.get(path, "text/html; charset=utf-8")
                )
                self.send_header("Content-Length", str(len(encoded)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path: str, html: str, content_type: str = "text/html; charset=utf-8") -> str:
        """Serves `html` (or a script: `content_type`) at `path`; returns its URL."""
        self.pages[path] = html
        self.content_types[path] = content_type
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def host_pages() -> Iterator[HostPages]:
    pages = HostPages()
    yield pages
    pages.close()


@pytest.fixture
async def dashboard(make_stack, temporal_env, sessions, tmp_path):
    """The dashboard on a real port, with a Dev mailbox (tests/browser/dashboard.py)."""
    from tests.browser.dashboard import serving_dashboard  # it imports this module

    async with serving_dashboard(make_stack, temporal_env, sessions, tmp_path / "mail") as served:
        yield served
