// browser_client.js drives a wsexec endpoint with the browser's own
// WebSocket, for clients_test.go, which evaluates this file in a headless
// Chromium page (Runtime.evaluate) followed by
//
//     wsexecClient(URL, SCENARIO)
//
// The promise resolves with a JSON-able object of what the page saw (the Go
// test makes the assertions) and rejects on anything unexpected. The
// scenarios match node_client.js and py_client.py, minus ping: browsers
// answer pings but cannot send them.
"use strict";

async function wsexecClient(url, scenario) {
  const text = "h\u00e9llo w\u00f6rld \u2713 \u2014 \u65e5\u672c\u8a9e \u{1F600}";
  // The message sizes of the bridge scenario (node_client.js has the same).
  const bridgeSizes = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 0, 7];

  // open connects and resolves once the socket is open; messages and the
  // close are queued so that none is missed.
  function open(protocols) {
    return new Promise((resolve, reject) => {
      const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
      ws.binaryType = "arraybuffer"; // binary messages as bytes at once, not Blobs
      const q = { ws, messages: [], waiters: [], closed: null };
      ws.onmessage = (ev) => { q.messages.push(ev.data); wake(q); };
      ws.onclose = (ev) => {
        q.closed = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
        wake(q);
        reject(new Error("closed " + ev.code + " before open"));
      };
      ws.onopen = () => resolve(q);
    });
  }

  function wake(q) {
    const w = q.waiters;
    q.waiters = [];
    w.forEach((f) => f());
  }

  function until(q, cond) {
    return new Promise((resolve) => {
      const check = () => (cond(q) ? resolve() : q.waiters.push(check));
      check();
    });
  }

  async function next(q) {
    await until(q, () => q.messages.length > 0 || q.closed);
    if (q.messages.length === 0) { throw new Error("closed " + JSON.stringify(q.closed) + " before a message"); }
    return q.messages.shift();
  }

  async function closeNormally(q) {
    q.ws.close(1000, "done");
    await until(q, () => q.closed);
    return q.closed;
  }

  async function echoes(q, msg) {
    q.ws.send(msg);
    return (await next(q)) === msg;
  }

  function randomBytes(n) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) { crypto.getRandomValues(b.subarray(i, i + 65536)); }
    return b;
  }

  function randomBase64(n) {
    const b = randomBytes(n);
    let s = "";
    for (let i = 0; i < n; i++) { s += String.fromCharCode(b[i]); }
    return btoa(s);
  }

  const scenarios = {
    async echo() {
      const q = await open();
      q.ws.send(text);
      const echo = await next(q);
      const c = await closeNormally(q);
      return { extensions: q.ws.extensions, echo, code: c.code };
    },

    async large() {
      const q = await open();
      const msg = "0123456789abcdef".repeat(1 << 16); // 1 MiB
      q.ws.send(msg);
      const got = await next(q);
      await closeNormally(q);
      return { extensions: q.ws.extensions, len: got.length, same: got === msg };
    },

    async close() {
      const q = await open();
      q.ws.send(text); // a round trip first: the program is running
      await next(q);
      q.ws.close(4000, "bye \u2713");
      await until(q, () => q.closed);
      return { extensions: q.ws.extensions, code: q.closed.code, reason: q.closed.reason, wasClean: q.closed.wasClean };
    },

    async serverclose() {
      const q = await open();
      await until(q, () => q.closed);
      return {
        extensions: q.ws.extensions, messages: q.messages,
        code: q.closed.code, reason: q.closed.reason, wasClean: q.closed.wasClean
      };
    },

    async subprotocol() {
      // Chromium fails the connection when it offered protocols and the
      // answer names none; it says why only on the console, so report the
      // close code it gives the page.
      let q;
      try {
        q = await open(["chat.v1", "superchat"]);
      } catch (err) {
        return { status: 0, protocolHeader: null, error: err.message };
      }
      const echo = (await echoes(q, text)) ? text : "(no echo)";
      await closeNormally(q);
      return { status: 101, protocolHeader: q.ws.protocol || null, protocol: q.ws.protocol, echo };
    },

    async compress() {
      const q = await open();
      const repetitive = await echoes(q, "wsexec compresses this line. ".repeat(36158)); // ~1 MiB
      const random = await echoes(q, randomBase64(192 << 10)); // 256 KiB
      await closeNormally(q);
      return { extensions: q.ws.extensions, repetitive, random };
    },

    // bridge and hangup: as in node_client.js.
    async bridge() {
      const q = await open(["binary"]);
      let len = 0;
      let error = "";
      for (const n of bridgeSizes) {
        const msg = randomBytes(n);
        q.ws.send(msg);
        const back = new Uint8Array(n);
        let have = 0;
        while (have < n) {
          const m = await next(q);
          if (!(m instanceof ArrayBuffer) || m.byteLength === 0 || have + m.byteLength > n) {
            error ||= n + " bytes: got " + (m instanceof ArrayBuffer ? m.byteLength + " bytes after " + have : typeof m);
            break;
          }
          back.set(new Uint8Array(m), have);
          have += m.byteLength;
        }
        len += have;
        if (have !== n || !back.every((v, i) => v === msg[i])) { error ||= n + " bytes: " + have + " came back, not the same"; }
      }
      if (q.messages.length > 0) { error ||= q.messages.length + " messages more than sent"; }
      const c = await closeNormally(q);
      return { status: 101, protocolHeader: q.ws.protocol || null, protocol: q.ws.protocol, len, same: !error, error, code: c.code };
    },

    async hangup() {
      const q = await open(["binary"]);
      await until(q, () => q.closed);
      const bytes = [];
      for (const m of q.messages) { bytes.push(...new Uint8Array(m)); }
      const echo = new TextDecoder().decode(new Uint8Array(bytes));
      return { protocol: q.ws.protocol, echo, code: q.closed.code, reason: q.closed.reason, wasClean: q.closed.wasClean };
    }
  };

  if (!scenarios[scenario]) { throw new Error("unknown scenario " + JSON.stringify(scenario)); }
  return scenarios[scenario]();
}
