"""A small real SMTP server on loopback that keeps what it receives (for the email CRM).

Speaks enough RFC 5321 for a client that sends mail: EHLO/HELO, MAIL, RCPT, DATA (with dot
unstuffing), RSET, NOOP, QUIT. `reject_with` makes it refuse the next messages at DATA with a
reply code (e.g. 451 to test retries, 554 for a permanent refusal).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


def _address(command: str) -> str:
    found = re.search(r"<([^>]*)>", command)
    return found.group(1) if found else ""


@dataclass
class Mail:
    """One message as the server received it."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class FakeSmtp:
    """SMTP server on 127.0.0.1, port 0."""

    mails: list[Mail] = field(default_factory=list)
    reject_with: list[int] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                       ) -> None:
        def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        reply("220 fake-smtp ready")
        sender, rcpts = "", []
        try:
            while line := await reader.readline():
                cmd = line.decode(errors="replace").strip()
                verb = cmd[:4].upper()
                if verb in ("EHLO", "HELO"):
                    reply("250-fake-smtp" if verb == "EHLO" else "250 fake-smtp")
                    if verb == "EHLO":
                        reply("250 8BITMIME")
                elif verb == "MAIL":
                    sender, rcpts = _address(cmd), []
                    reply("250 ok")
                elif verb == "RCPT":
                    rcpts.append(_address(cmd))
                    reply("250 ok")
                elif verb == "DATA":
                    reply("354 end with .")
                    await writer.drain()
                    chunks: list[bytes] = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    if self.reject_with:
                        code = self.reject_with.pop(0)
                        reply(f"{code} refused by the fake")
                    else:
                        self.mails.append(Mail(sender, rcpts, b"".join(chunks)))
                        reply("250 queued")
                elif verb == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    break
                else:  # RSET, NOOP and anything else
                    reply("250 ok")
                await writer.drain()
        finally:
            writer.close()

    async def start(self) -> FakeSmtp:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
