#!/usr/bin/env python3
"""json_inspect.py: an endpoint for --framing=json. Each message the client
sends is answered with a text message saying its type and size, then sent
back exactly as it came. Exits when the client disconnects (stdin closes).

Run:  wsexec --port=8080 --devconsole --framing=json examples/python/json_inspect.py

In --framing=json each message is one JSON object per line, both ways:
{"type":"text","data":"the text"} or {"type":"binary","data":"<base64>"}.
"""

import base64
import json
import sys


def read_messages():
    """Yield (kind, payload) for each message: str for text, bytes for binary."""
    for line in sys.stdin.buffer:  # bytes: no decoding by the locale
        msg = json.loads(line)
        if msg["type"] == "binary":
            yield "binary", base64.b64decode(msg["data"], validate=True)
        else:
            yield "text", msg["data"]


def send(kind, payload):
    """Write one message; "type" must come before "data"."""
    if kind == "binary":
        payload = base64.b64encode(payload).decode("ascii")
    # ensure_ascii (the default) escapes non-ASCII as \\uXXXX: the line is
    # ASCII whatever the locale. stdout is a pipe, so flush at once.
    sys.stdout.write(json.dumps({"type": kind, "data": payload}) + "\n")
    sys.stdout.flush()


def main() -> int:
    for kind, payload in read_messages():
        size = len(payload) if kind == "binary" else len(payload.encode("utf-8"))
        send("text", f"got {kind}, {size} bytes")
        send(kind, payload)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # wsexec sends SIGINT when the client leaves
        sys.exit(0)
