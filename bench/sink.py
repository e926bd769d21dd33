"""A local SMTP sink for benchmarks (own process, so it does not share a GIL with the
sender): prints one line per message received."""

import signal
import sys
import time

from aiosmtpd.controller import Controller


class Counter:
    async def handle_DATA(self, server, session, envelope):
        sys.stdout.write(f"{time.time()}\n")
        sys.stdout.flush()
        return "250 OK"


def main() -> None:
    # Started from a background shell (or pytest-xdist) SIGINT arrives ignored; stop() sends it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
