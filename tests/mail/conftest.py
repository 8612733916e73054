"""A real SMTP server on localhost (aiosmtpd) that records what it receives."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiosmtpd.controller import Controller


class Recorder:
    """Keeps what it receives; with `delay`, answers each message that many seconds after receiving it (a slow
    server: a client stopped meanwhile has handed the message over without learning that it was accepted)."""

    def __init__(self, delay: float = 0.0):
        self.messages: list[bytes] = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content or envelope.content)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Start and stop at will: a server that is down is a port nobody listens on."""

    def __init__(self, port: int):
        self.port = port
        self.recorder = Recorder()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port)
    yield server
    server.stop()
