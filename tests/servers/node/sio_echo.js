#!/usr/bin/env node
// A third-party stand-in on Node.js: a plain Socket.IO 4 server, nothing of ours inside.
//
//   node sio_echo.js [--port N]
//
// prints `listening on ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket` (the URL a
// plain WebSocket client opens an Engine.IO session with), answers a `message` event with
// the same message, and stops on SIGTERM or SIGINT. Keepalive is Engine.IO's own
// (pingInterval 25 s, pingTimeout 20 s).
//
// Its RSS climbs for several rounds of connections and then levels off: V8 grows its heap
// lazily. WS-RESILIENCE-006.4 must tell that plateau from a leak.
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const args = process.argv.slice(2);
let port = 0;
if (args.length === 2 && args[0] === '--port' && Number.isInteger(Number(args[1]))) {
  port = Number(args[1]);
} else if (args.length > 0) {
  console.error(`usage: sio_echo.js [--port N]; got ${args.join(' ')}`);
  process.exit(2);
}

const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'] });

io.on('connection', function connection(socket) {
  socket.on('message', function message(data) {
    socket.send(data);
  });
});

httpServer.listen(port, '127.0.0.1', function listening() {
  const { port: bound } = httpServer.address();
  console.log(`listening on ws://127.0.0.1:${bound}/socket.io/?EIO=4&transport=websocket`);
});

function stop() {
  io.close(() => process.exit(0));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
