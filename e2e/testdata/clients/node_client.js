// node_client.js drives a wsexec endpoint with Node's `ws` package, for
// clients_test.go. Usage: node node_client.js URL SCENARIO
//
// It prints one JSON object on stdout with what it saw (the Go test makes
// the assertions) and exits 0; anything unexpected (a timeout, an error
// event outside the subprotocol scenario) goes to stderr with exit 1.
"use strict";

const crypto = require("crypto");
const WebSocket = require("ws");

const [url, scenario] = process.argv.slice(2);
const text = "h\u00e9llo w\u00f6rld \u2713 \u2014 \u65e5\u672c\u8a9e \u{1F600}";
// The message sizes of the bridge scenario, in order (bridge_test.go's
// bridgeSizes; the same literal is in browser_client.js).
const bridgeSizes = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 0, 7];

const timer = setTimeout(() => fail(new Error("timed out after 20 s")), 20000);

function fail(err) {
  process.stderr.write(`node_client ${scenario}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

function done(result) {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

// open connects and resolves with the socket and the negotiated extensions
// header; messages and the close are queued so that none is missed.
function open(protocols) {
  return new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    const q = { ws, extensions: "", messages: [], waiters: [], closed: null, status: 0, protocolHeader: null };
    ws.on("upgrade", (res) => {
      q.status = res.statusCode;
      q.extensions = res.headers["sec-websocket-extensions"] || "";
      const p = res.headers["sec-websocket-protocol"];
      q.protocolHeader = p === undefined ? null : p;
    });
    ws.on("message", (data, isBinary) => {
      q.messages.push(isBinary ? data : data.toString("utf8"));
      wake(q);
    });
    ws.on("close", (code, reason) => {
      q.closed = { code, reason: reason.toString("utf8") };
      wake(q);
    });
    ws.on("open", () => resolve(q));
    ws.on("error", (err) => { q.error = err; reject(Object.assign(err, { q })); });
  });
}

function wake(q) {
  const w = q.waiters;
  q.waiters = [];
  w.forEach((f) => f());
}

// until resolves once cond(q) holds, checking after each event.
function until(q, cond) {
  return new Promise((resolve) => {
    const check = () => (cond(q) ? resolve() : q.waiters.push(check));
    check();
  });
}

async function next(q) {
  await until(q, () => q.messages.length > 0 || q.closed);
  if (q.messages.length === 0) throw new Error(`closed ${JSON.stringify(q.closed)} before a message`);
  return q.messages.shift();
}

async function closeNormally(q) {
  q.ws.close(1000, "done");
  await until(q, () => q.closed);
  return q.closed;
}

async function echoes(q, msg) {
  q.ws.send(msg);
  const got = await next(q);
  return got === msg;
}

const scenarios = {
  async echo() {
    const q = await open();
    q.ws.send(text);
    const echo = await next(q);
    const c = await closeNormally(q);
    return { extensions: q.extensions, echo, code: c.code };
  },

  async large() {
    const q = await open();
    const msg = "0123456789abcdef".repeat(1 << 16); // 1 MiB
    q.ws.send(msg);
    const got = await next(q);
    await closeNormally(q);
    return { extensions: q.extensions, len: got.length, same: got === msg };
  },

  async ping() {
    const q = await open();
    const pong = new Promise((resolve) => q.ws.once("pong", (data) => resolve(data.toString("utf8"))));
    q.ws.ping("p1");
    const got = await pong;
    q.ws.send(text);
    const echo = await next(q);
    await closeNormally(q);
    return { extensions: q.extensions, pong: got, echo };
  },

  async close() {
    const q = await open();
    q.ws.send(text); // a round trip first: the program is running
    await next(q);
    q.ws.close(4000, "bye \u2713");
    await until(q, () => q.closed);
    return { extensions: q.extensions, code: q.closed.code, reason: q.closed.reason };
  },

  async serverclose() {
    const q = await open();
    await until(q, () => q.closed);
    return { extensions: q.extensions, messages: q.messages, code: q.closed.code, reason: q.closed.reason };
  },

  async subprotocol() {
    let q;
    try {
      q = await open(["chat.v1", "superchat"]);
    } catch (err) {
      // ws refuses a 101 without Sec-WebSocket-Protocol when it offered
      // some; report it with what the server answered.
      if (!err.q) throw err;
      return { status: err.q.status, protocolHeader: err.q.protocolHeader, error: err.message };
    }
    const echo = (await echoes(q, text)) ? text : "(no echo)";
    await closeNormally(q);
    return { status: q.status, protocolHeader: q.protocolHeader, protocol: q.ws.protocol, echo };
  },

  async compress() {
    const q = await open();
    const repetitive = await echoes(q, "wsexec compresses this line. ".repeat(36158)); // ~1 MiB
    const random = await echoes(q, crypto.randomBytes(192 << 10).toString("base64")); // 256 KiB
    await closeNormally(q);
    return { extensions: q.extensions, repetitive, random };
  },

  // bridge: random bytes of each of bridgeSizes through a TCP echo
  // service behind examples/bridge/tcpbridge, offering the "binary"
  // subprotocol as websockify's clients do. A stream has no message
  // boundaries: each message comes back in as many binary messages as
  // the pipes cut it into, and must come back whole before the next goes.
  async bridge() {
    const q = await open(["binary"]);
    let len = 0;
    let error = "";
    for (const n of bridgeSizes) {
      const msg = crypto.randomBytes(n);
      q.ws.send(msg);
      const got = [];
      for (let have = 0; have < n; ) {
        const m = await next(q);
        if (!Buffer.isBuffer(m) || m.length === 0) error ||= `${n} bytes: got ${JSON.stringify(m)}`;
        got.push(m);
        have += m.length;
      }
      const back = Buffer.concat(got);
      len += back.length;
      if (!back.equals(msg)) error ||= `${n} bytes: ${back.length} came back, not the same`;
    }
    if (q.messages.length > 0) error ||= `${q.messages.length} messages more than sent`;
    const c = await closeNormally(q);
    return { status: q.status, protocolHeader: q.protocolHeader, protocol: q.ws.protocol, len, same: !error, error, code: c.code };
  },

  // hangup: a service that says a few bytes and closes, behind
  // tcpbridge; reports them (as text) and the close that follows.
  async hangup() {
    const q = await open(["binary"]);
    await until(q, () => q.closed);
    const echo = Buffer.concat(q.messages.map((m) => Buffer.from(m))).toString("utf8");
    return { protocol: q.ws.protocol, echo, code: q.closed.code, reason: q.closed.reason };
  },
};

if (!scenarios[scenario]) fail(new Error(`unknown scenario ${JSON.stringify(scenario)}`));
scenarios[scenario]().then(done, fail);
