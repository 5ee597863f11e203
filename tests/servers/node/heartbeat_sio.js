#!/usr/bin/env node
// A Socket.IO 4 service for the heartbeat suite (WS-RESILIENCE-007 on WS_PROTOCOL=socketio):
// plain Socket.IO with its keepalive set on the command line, nothing of ours inside.
//
//   node heartbeat_sio.js [--port N] [--ping-interval MS] [--ping-timeout MS]
//
// prints `listening on ws://127.0.0.1:PORT/` (the service URL: the socketio profile opens
// /socket.io/?EIO=4&transport=websocket there) once it listens, and stops on SIGTERM or SIGINT.
// Engine.IO announces --ping-interval and --ping-timeout (defaults 25000 and 20000 ms, Socket.IO's
// own) in its open packet, pings every interval and closes a client whose pong does not come
// within the timeout. GET /metrics answers Prometheus text: `ws_open_connections`, Engine.IO's
// own count of open clients (it drops the moment Engine.IO gives up on a client, while the TCP
// connection may linger up to 30 s waiting for the client's close frame).
'use strict';

const http = require('http');
const { Server } = require('socket.io');

function options(argv) {
  const parsed = { port: 0, pingInterval: 25000, pingTimeout: 20000 };
  const names = { '--port': 'port', '--ping-interval': 'pingInterval', '--ping-timeout': 'pingTimeout' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (name === undefined || !Number.isInteger(value) || value < 0) {
      console.error(`usage: heartbeat_sio.js [--port N] [--ping-interval MS] [--ping-timeout MS]; got ${argv[i]} ${argv[i + 1]}`);
      process.exit(2);
    }
    parsed[name] = value;
  }
  return parsed;
}

const opts = options(process.argv.slice(2));

const httpServer = http.createServer(function metrics(req, res) {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE ws_open_connections gauge\nws_open_connections ${io.engine.clientsCount}\n`);
    return;
  }
  res.writeHead(404);
  res.end();
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
});

io.on('connection', function connection(socket) {
  socket.on('message', function message(data) {
    socket.send(data);
  });
});

httpServer.listen(opts.port, '127.0.0.1', function listening() {
  console.log(`listening on ws://127.0.0.1:${httpServer.address().port}/`);
});

function stop() {
  io.close(() => process.exit(0));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
