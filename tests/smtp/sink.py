#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd): it writes each message it accepts to --out as
NNNNNN.eml and prints "ready" once it listens. --refuse answers every message with a temporary
failure (451); --reject ADDRESS refuses that recipient (550). It stops on SIGTERM or when stdin closes."""
import argparse
import itertools
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, refuse, reject):
        self.out = out
        self.refuse = refuse
        self.reject = {r.lower() for r in reject}
        self.count = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Mailbox temporarily unavailable"
        with self.lock:
            n = next(self.count)
        path = os.path.join(self.out, f"{n:06d}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--reject", action="append", default=[])
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    # A fixed server name: by default aiosmtpd looks its own up (getfqdn) for every connection, which
    # costs tens of milliseconds where DNS does not answer.
    controller = Controller(
        Sink(a.out, a.refuse, a.reject), hostname="127.0.0.1", port=a.port, server_hostname="sink.test"
    )
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
