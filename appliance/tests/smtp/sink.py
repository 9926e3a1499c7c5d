"""A real SMTP server for the notification tests (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1 on a free port, prints the port on its first line, and writes each
message it accepts to DIR as NNNN.json (the envelope's recipients, and the message as
Python's e-mail parser reads it: headers decoded, the text body), only once it answers
250: a message the client never saw taken is not kept. Options: --delay SECONDS before each answer to DATA; --serial to take one message at a
time, whatever the connections (a slow relay); --refuse ADDRESS (repeated) answered 550
at RCPT, as a mailbox that does not exist; --tls CERT KEY to require STARTTLS with that
certificate (each kept message says whether it came over TLS).
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import ssl

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, delay, serial, refused):
        self.directory = directory
        self.delay = delay
        self.lock = asyncio.Lock() if serial else None
        self.refused = {a.lower() for a in refused}
        self.numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.lock:
            async with self.lock:
                return await self.accept(envelope)
        return await self.accept(envelope)

    async def accept(self, envelope):
        await asyncio.sleep(self.delay)
        n = next(self.numbers)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        kept = {
            "tls": self.tls,
            "to": envelope.rcpt_tos,
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "headers": {k: str(v) for k, v in message.items()},
            "body": message.get_content(),
        }
        path = os.path.join(self.directory, "%04d.json" % n)
        with open(path + ".tmp", "w") as f:
            json.dump(kept, f)
        os.rename(path + ".tmp", path)
        return "250 OK: queued as %d" % n


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--serial", action="store_true")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    sink = Sink(args.directory, args.delay, args.serial, args.refuse)
    tls = None
    if args.tls:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.tls)
    sink.tls = tls is not None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="smtp.test", tls_context=tls, require_starttls=tls is not None), "127.0.0.1", 0
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
