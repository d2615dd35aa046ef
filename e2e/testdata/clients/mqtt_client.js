// mqtt_client.js is a browser dashboard's side of MQTT over WebSocket, in
// Node with mqtt.js (npm "mqtt"), for mqtt_test.go.
// Usage: node mqtt_client.js URL PREFIX
//
// It connects over ws:// (mqtt.js offers the "mqtt" subprotocol),
// subscribes to PREFIX/down/# with QoS 1, publishes under PREFIX/up/, and
// takes messages under PREFIX/down/ until it has four, then disconnects.
// Each step is one JSON line on stdout, for the Go test to act on and to
// check:
//
//   {"event":"subscribed","granted":[1]}
//   {"event":"published","big":"SHA-256 of the 100 KiB payload"}
//   {"event":"message","topic":...,"qos":...,"retain":...,"len":...,"sha256":...}
//   {"event":"closed"}
//
// and it exits 0; anything unexpected goes to stderr with exit 1.
"use strict";

const crypto = require("crypto");
const mqtt = require("mqtt");

const [url, prefix] = process.argv.slice(2);
const timer = setTimeout(() => fail(new Error("timed out after 30 s")), 30000);

function fail(err) {
  process.stderr.write(`mqtt_client: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");

async function main() {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10000 });
  client.on("error", fail);
  const got = [];
  let wake = () => {};
  client.on("message", (topic, payload, packet) => {
    got.push({ event: "message", topic, qos: packet.qos, retain: packet.retain, len: payload.length, sha256: sha256(payload) });
    wake();
  });
  await new Promise((resolve) => client.once("connect", resolve));

  const granted = await client.subscribeAsync(`${prefix}/down/#`, { qos: 1 });
  say({ event: "subscribed", granted: granted.map((g) => g.qos) });

  const big = crypto.randomBytes(100 << 10);
  await client.publishAsync(`${prefix}/up/q0`, "hello from mqtt.js, QoS 0 \u2713", { qos: 0 });
  await client.publishAsync(`${prefix}/up/q1`, "hello from mqtt.js, QoS 1 \u2713", { qos: 1 });
  await client.publishAsync(`${prefix}/up/big`, big, { qos: 1 });
  await client.publishAsync(`${prefix}/up/retained`, "retained by mqtt.js", { qos: 1, retain: true });
  say({ event: "published", big: sha256(big) });

  await new Promise((resolve) => {
    wake = () => got.length >= 4 && resolve();
    wake();
  });
  got.forEach(say);
  await client.endAsync();
  say({ event: "closed" });
}

main().then(() => {
  clearTimeout(timer);
  process.exit(0);
}, fail);
