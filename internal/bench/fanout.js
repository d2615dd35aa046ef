// The fan-out scenario's Node baseline (internal/bench/fanout.go): the
// usual broadcast server on the `ws` package. One program for every
// client, started with the first: each line it prints goes to every open
// client with wss.clients.forEach(c => c.send(line)); each client message
// is a line on its stdin.
//
//   node fanout.js PROGRAM [ARGS...]
//
// It listens on a free loopback port and prints "listening PORT".
'use strict';
const { spawn } = require('child_process');
const readline = require('readline');
const { WebSocketServer, WebSocket } = require('ws');

const [cmd, ...args] = process.argv.slice(2);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
let prog = null;

function start() {
	prog = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
	readline.createInterface({ input: prog.stdout }).on('line', (line) => {
		wss.clients.forEach((c) => {
			if (c.readyState === WebSocket.OPEN) {
				c.send(line);
			}
		});
	});
	prog.on('exit', () => process.exit(0));
}

wss.on('listening', () => console.log(`listening ${wss.address().port}`));
wss.on('connection', (ws) => {
	if (prog === null) {
		start();
	}
	ws.on('message', (m) => prog.stdin.write(m + '\n'));
});
