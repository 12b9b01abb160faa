"""The fastest durable path Temporal offers for one email: the limit Herald's per-notification
overhead is measured against (bench/run.py).

A bare workflow started eagerly (`request_eager_start=True`, its worker in the starting process,
as Herald's API replicas run theirs) whose one local activity sends the email through aiosmtplib
over kept-open sessions (as Herald does), without the workflow sandbox (Herald's default).

`python -m bench.eager_local TEMPORAL_ADDRESS SMTP_PORT` listens on a free local TCP port and
prints `ready PORT`. Each line it reads there is an address: it starts one workflow that sends
the email to that address, and answers nothing; the benchmark times the message's arrival at its
SMTP catcher, as for Herald. A line over TCP costs less than an HTTP request, so the baseline
carries none of an API's cost: what Herald adds (HTTP, authentication, the database, planning,
templates) is what the ratio shows.
"""

import asyncio
import signal
import socket
import sys
import uuid
from datetime import timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import aiosmtplib
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

TASK_QUEUE = "bench-eager-local"
SENDER = "bench@herald.example"
SUBJECT = "Payment received"
TEXT = "Hello,\n\nWe received your payment.\n\nThank you.\n"
HTML = "<html><body><p>Hello,</p><p>We received your payment.</p><p>Thank you.</p></body></html>"


def email_bytes(address: str) -> bytes:
    """The baselines' email (this one and bench/celery_baseline.py): the subject and message of
    Herald's benchmark email, as text and HTML, composed with the email package's compat32 API
    as Herald composes its own (channels/mime.py)."""
    message = MIMEMultipart("alternative")
    message["Subject"] = SUBJECT
    message["From"] = SENDER
    message["To"] = address
    message["Message-ID"] = f"<{uuid.uuid4().hex}@herald.example>"
    message.attach(MIMEText(TEXT, "plain", "utf-8"))
    message.attach(MIMEText(HTML, "html", "utf-8"))
    return message.as_bytes()


class SmtpPool:
    """Kept-open aiosmtplib sessions: one per concurrent send, reused afterwards."""

    def __init__(self, port: int):
        self.port = port
        self.idle: list[aiosmtplib.SMTP] = []

    async def send(self, address: str) -> None:
        session = self.idle.pop() if self.idle else None
        if session is None:
            session = aiosmtplib.SMTP(
                hostname="127.0.0.1", port=self.port, local_hostname=socket.gethostname()
            )
            await session.connect()
        try:
            await session.sendmail(SENDER, [address], email_bytes(address))
        except BaseException:
            session.close()
            raise
        self.idle.append(session)


class EmailActivity:
    def __init__(self, pool: SmtpPool):
        self.pool = pool

    @activity.defn(name="send_email")
    async def send_email(self, address: str) -> None:
        await self.pool.send(address)


@workflow.defn
class EagerEmailWorkflow:
    @workflow.run
    async def run(self, address: str) -> None:
        await workflow.execute_local_activity(
            "send_email", address, start_to_close_timeout=timedelta(seconds=30)
        )


async def serve(address: str, smtp_port: int) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    starts: set[asyncio.Task] = set()

    async def start(recipient: str) -> None:
        await client.start_workflow(
            EagerEmailWorkflow.run,
            recipient,
            id=f"eager-{uuid.uuid4()}",
            task_queue=TASK_QUEUE,
            request_eager_start=True,
        )

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            task = asyncio.create_task(start(line.decode().strip()))
            starts.add(task)
            task.add_done_callback(starts.discard)

    async with (
        Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[EagerEmailWorkflow],
            activities=[EmailActivity(SmtpPool(smtp_port)).send_email],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ),
        await asyncio.start_server(on_connection, "127.0.0.1", 0) as server,
    ):
        print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
