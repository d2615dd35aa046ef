#!/usr/bin/env python3
"""length_inspect.py: an endpoint for --framing=length. Each message the
client sends is answered with a text message saying its type and size, then
sent back exactly as it came. Exits when the client disconnects (stdin
closes).

Run:  wsexec --port=8080 --devconsole --framing=length examples/python/length_inspect.py

In --framing=length each message, both ways, is a 9-byte header then its
payload: one byte of type (1 text, 2 binary), then the payload's length as
an unsigned 64-bit big-endian integer.
"""

import struct
import sys

TEXT, BINARY = 1, 2
HEADER = struct.Struct(">BQ")  # type, length: 9 bytes


def read_messages():
    """Yield (type, payload bytes) for each message until stdin ends."""
    stdin = sys.stdin.buffer
    while True:
        header = stdin.read(HEADER.size)  # blocks until 9 bytes, or EOF
        if not header:
            return
        if len(header) < HEADER.size:
            raise EOFError("stdin ended inside a header")
        kind, size = HEADER.unpack(header)
        payload = stdin.read(size)
        if len(payload) < size:
            raise EOFError("stdin ended inside a message")
        yield kind, payload


def send(kind, payload: bytes):
    """Write one message, header and payload, and flush it (stdout is a pipe)."""
    sys.stdout.buffer.write(HEADER.pack(kind, len(payload)) + payload)
    sys.stdout.buffer.flush()


def main() -> int:
    for kind, payload in read_messages():
        name = "text" if kind == TEXT else "binary"
        send(TEXT, f"got {name}, {len(payload)} bytes".encode("utf-8"))
        send(kind, payload)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # wsexec sends SIGINT when the client leaves
        sys.exit(0)
