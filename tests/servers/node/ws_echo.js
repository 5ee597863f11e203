#!/usr/bin/env node
// A third-party stand-in on Node.js: a plain `ws` 8 echo server with the heartbeat loop of
// the ws README ("How to detect and close broken connections?"), nothing of ours inside.
//
//   node ws_echo.js [--port N] [--ping-interval S] [--leak-kib N] [--cache-kib N --cache-size M]
//
// prints `listening on ws://127.0.0.1:PORT/` once it listens, echoes every message, and
// stops on SIGTERM or SIGINT. Options:
//
//   --port N            port to listen on (default 0: one the OS picks, printed)
//   --ping-interval S   seconds between heartbeat rounds (default 30, as in the README);
//                       a client that has not answered the previous ping is terminated
//   --leak-kib N        keep N KiB per connection forever (default 0): the memory leak
//                       WS-RESILIENCE-006.4 must catch on a V8 process
//   --cache-kib N       keep N KiB for each of the last --cache-size connections (default
//   --cache-size M      0 and 1000) in a ring of slots allocated on first use and then
//                       reused, as a fixed-size cache of recent sessions would: memory grows
//                       until every slot is taken, then stays flat. Bounded, so no leak.
//
// Memory a healthy V8 process takes grows lazily (heap spaces, code, buffers) and levels
// off later; that plateau is what 006.4 must not mistake for a leak.
'use strict';

const { WebSocketServer } = require('ws');

function options(argv) {
  const parsed = { port: 0, pingInterval: 30, leakKib: 0, cacheKib: 0, cacheSize: 1000 };
  const names = {
    '--port': 'port',
    '--ping-interval': 'pingInterval',
    '--leak-kib': 'leakKib',
    '--cache-kib': 'cacheKib',
    '--cache-size': 'cacheSize',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (name === undefined || !Number.isFinite(value) || value < 0) {
      console.error(`usage: ws_echo.js [--port N] [--ping-interval S] [--leak-kib N] [--cache-kib N --cache-size M];`
        + ` got ${argv[i]} ${argv[i + 1]}`);
      process.exit(2);
    }
    parsed[name] = value;
  }
  return parsed;
}

const opts = options(process.argv.slice(2));
const retained = []; // --leak-kib: what every connection leaves behind, never released
const recent = []; // --cache-kib: a ring of --cache-size slots, the last connections' records
let accepted = 0;

function heartbeat() {
  this.isAlive = true;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: opts.port });

wss.on('connection', function connection(ws) {
  accepted += 1;
  ws.isAlive = true;
  ws.on('error', console.error);
  ws.on('pong', heartbeat);
  ws.on('message', function message(data, isBinary) {
    ws.send(data, { binary: isBinary });
  });
  if (opts.leakKib > 0) {
    // Filled, not zeroed, so every page is written and resident.
    retained.push(Buffer.alloc(opts.leakKib * 1024, (accepted % 251) + 1));
  }
  if (opts.cacheKib > 0) {
    const slot = accepted % opts.cacheSize;
    recent[slot] ??= Buffer.alloc(opts.cacheKib * 1024);
    recent[slot].fill((accepted % 251) + 1); // this connection's record, in place of the oldest
  }
});

const interval = setInterval(function ping() {
  wss.clients.forEach(function each(ws) {
    if (ws.isAlive === false) return ws.terminate();
    ws.isAlive = false;
    ws.ping();
  });
}, opts.pingInterval * 1000);

wss.on('close', function close() {
  clearInterval(interval);
});

wss.on('listening', function listening() {
  console.log(`listening on ws://127.0.0.1:${wss.address().port}/`);
});

function stop() {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
