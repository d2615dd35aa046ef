"""py_client.py drives a wsexec endpoint with the Python `websockets`
package (asyncio client), for clients_test.go.

Usage: python3 py_client.py URL SCENARIO

It prints one JSON object on stdout with what it saw (the Go test makes the
assertions) and exits 0; anything unexpected goes to stderr with exit 1.
Written against websockets 10.4 (Debian bookworm); newer versions keep the
calls used here.
"""

import asyncio
import base64
import json
import os
import sys

import websockets

TEXT = "h\u00e9llo w\u00f6rld \u2713 \u2014 \u65e5\u672c\u8a9e \U0001F600"


async def connect(url, **kw):
    # max_size=None: the 1 MiB messages are over the default limit once
    # framing is counted, and wsexec's own limit is what is under test.
    return await websockets.connect(url, max_size=None, open_timeout=10, **kw)


def headers(ws):
    h = getattr(ws, "response_headers", None)
    if h is None:  # websockets >= 14
        h = ws.response.headers
    return h


def extensions(ws):
    return headers(ws).get("Sec-WebSocket-Extensions", "")


async def close_normally(ws):
    await ws.close(1000, "done")
    return ws.close_code


async def echoes(ws, msg):
    await ws.send(msg)
    return await ws.recv() == msg


async def echo(url):
    ws = await connect(url)
    await ws.send(TEXT)
    got = await ws.recv()
    code = await close_normally(ws)
    return {"extensions": extensions(ws), "echo": got, "code": code}


async def large(url):
    ws = await connect(url)
    msg = "0123456789abcdef" * (1 << 16)  # 1 MiB
    await ws.send(msg)
    got = await ws.recv()
    await close_normally(ws)
    return {"extensions": extensions(ws), "len": len(got), "same": got == msg}


async def ping(url):
    ws = await connect(url)
    # The waiter resolves only on a pong carrying this payload.
    waiter = await ws.ping(b"p1")
    await asyncio.wait_for(waiter, 10)
    await ws.send(TEXT)
    got = await ws.recv()
    await close_normally(ws)
    return {"extensions": extensions(ws), "pong": "p1", "echo": got}


async def close(url):
    ws = await connect(url)
    await ws.send(TEXT)  # a round trip first: the program is running
    await ws.recv()
    await ws.close(4000, "bye \u2713")
    return {"extensions": extensions(ws), "code": ws.close_code, "reason": ws.close_reason}


async def serverclose(url):
    ws = await connect(url)
    messages = []
    try:
        async for msg in ws:
            messages.append(msg)
    except websockets.ConnectionClosed:
        pass  # a close code other than 1000 or 1001 ends the loop this way
    await ws.wait_closed()
    return {"extensions": extensions(ws), "messages": messages,
            "code": ws.close_code, "reason": ws.close_reason}


async def subprotocol(url):
    ws = await connect(url, subprotocols=["chat.v1", "superchat"])
    got = TEXT if await echoes(ws, TEXT) else "(no echo)"
    await close_normally(ws)
    return {"status": 101, "protocolHeader": headers(ws).get("Sec-WebSocket-Protocol"),
            "protocol": ws.subprotocol or "", "echo": got}


async def compress(url):
    ws = await connect(url)
    repetitive = await echoes(ws, "wsexec compresses this line. " * 36158)  # ~1 MiB
    random = await echoes(ws, base64.b64encode(os.urandom(192 << 10)).decode())  # 256 KiB
    await close_normally(ws)
    return {"extensions": extensions(ws), "repetitive": repetitive, "random": random}


SCENARIOS = {f.__name__: f for f in (echo, large, ping, close, serverclose, subprotocol, compress)}


def main():
    url, scenario = sys.argv[1:3]
    if scenario not in SCENARIOS:
        sys.exit(f"py_client: unknown scenario {scenario!r}")
    result = asyncio.run(asyncio.wait_for(SCENARIOS[scenario](url), 20))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
