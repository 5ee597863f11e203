#!/usr/bin/env node
// A plain `ws` 8 service for the heartbeat suite (WS-RESILIENCE-007 on WS_PROTOCOL=rfc6455),
// nothing of ours inside: an echo server with, or without, the heartbeat loop of the ws README
// ("How to detect and close broken connections?").
//
//   node heartbeat_ws.js [--port N] [--ping-interval MS]
//
// prints `listening on ws://127.0.0.1:PORT/` once it listens, echoes every message, and stops on
// SIGTERM or SIGINT. --ping-interval MS (default 0: no heartbeat loop at all, a server that never
// reaps a zombie) pings every client each MS and terminates one that has not answered the
// previous ping: interval and timeout are both MS. GET /metrics answers Prometheus text:
// `ws_open_connections`, the server's count of open clients.
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');

function options(argv) {
  const parsed = { port: 0, pingInterval: 0 };
  const names = { '--port': 'port', '--ping-interval': 'pingInterval' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (name === undefined || !Number.isInteger(value) || value < 0) {
      console.error(`usage: heartbeat_ws.js [--port N] [--ping-interval MS]; got ${argv[i]} ${argv[i + 1]}`);
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
    res.end(`# TYPE ws_open_connections gauge\nws_open_connections ${wss.clients.size}\n`);
    return;
  }
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ server: httpServer });

function heartbeat() {
  this.isAlive = true;
}

wss.on('connection', function connection(ws) {
  ws.isAlive = true;
  ws.on('error', console.error);
  ws.on('pong', heartbeat);
  ws.on('message', function message(data, isBinary) {
    ws.send(data, { binary: isBinary });
  });
});

const interval = opts.pingInterval > 0 ? setInterval(function ping() {
  wss.clients.forEach(function each(ws) {
    if (ws.isAlive === false) return ws.terminate();
    ws.isAlive = false;
    ws.ping();
  });
}, opts.pingInterval) : null;

wss.on('close', function close() {
  if (interval) clearInterval(interval);
});

httpServer.listen(opts.port, '127.0.0.1', function listening() {
  console.log(`listening on ws://127.0.0.1:${httpServer.address().port}/`);
});

function stop() {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => httpServer.close(() => process.exit(0)));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
