"""SMTP sessions are kept between messages, and replaced when the server has dropped them."""

import uuid

import pytest
from aiosmtpd.controller import Controller

from channels.base import EmailMessage, TransientSendError
from channels.smtp import SmtpEmailProvider
from devtools.mailcatcher import start_mailcatcher
from tests.conftest import ScriptedMailCatcher, free_port


class SessionCountingCatcher(ScriptedMailCatcher):
    controller: Controller  # set once its server listens

    def __init__(self):
        super().__init__()
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses


@pytest.fixture
def server():
    catcher = SessionCountingCatcher()
    port = free_port()
    controller = start_mailcatcher(catcher, port=port)
    catcher.port, catcher.controller = port, controller
    yield catcher
    catcher.controller.stop()


def message(to: str) -> EmailMessage:
    return EmailMessage(
        to=to, subject="Hello", text="Hi there", sender="Herald <herald@example.com>"
    )


def addresses(n: int) -> list[str]:
    return [f"{uuid.uuid4().hex[:8]}@example.com" for _ in range(n)]


async def test_consecutive_messages_share_one_session(server):
    provider = SmtpEmailProvider("127.0.0.1", server.port)
    to = addresses(3)
    for address in to:
        await provider.send_email(message(address))
    assert [m.recipients for m in server.messages] == [[a] for a in to]
    assert server.sessions == 1


async def test_a_session_the_server_dropped_is_replaced_without_losing_the_message(server):
    provider = SmtpEmailProvider("127.0.0.1", server.port)
    first, second = addresses(2)
    await provider.send_email(message(first))
    server.controller.stop()  # the kept session's server goes away...
    restarted = SessionCountingCatcher()
    restarted.controller = start_mailcatcher(restarted, port=server.port)  # ...and comes back
    server.controller = restarted.controller

    await provider.send_email(message(second))
    assert [m.recipients for m in restarted.messages] == [[second]]
    assert restarted.sessions == 1


async def test_a_refused_message_closes_its_session(server):
    provider = SmtpEmailProvider("127.0.0.1", server.port)
    refused, accepted = addresses(2)
    server.script.append("451 4.3.0 Try again later")
    with pytest.raises(TransientSendError, match="451"):
        await provider.send_email(message(refused))
    await provider.send_email(message(accepted))
    assert [m.recipients for m in server.messages] == [[accepted]]
    assert server.sessions == 2  # a session left in an unknown state is not reused


async def test_an_unreachable_server_is_a_transient_failure():
    provider = SmtpEmailProvider("127.0.0.1", free_port())
    with pytest.raises(TransientSendError, match="unreachable"):
        await provider.send_email(message(addresses(1)[0]))
