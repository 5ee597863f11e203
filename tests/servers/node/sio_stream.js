#!/usr/bin/env node
// A third-party stand-in on Node.js: a Socket.IO 4 service that streams events, with
// connection state recovery (Socket.IO 4.6+) on, off, or replaying wrong.
//
//   node sio_stream.js [--port N] [--recovery on|off] [--replay exact|duplicate|skip]
//                      [--interval-ms N] [--events stream,chunk,end]
//
// prints `listening on ws://127.0.0.1:PORT/` and stops on SIGTERM or SIGINT. The event
// convention (docs/profiles.md, WS-RESILIENCE-002): the client emits `stream` with
// {"n": N, "size": B}; the service emits N `chunk` events {"id", "seq", "data"} (seq from 1,
// B characters of data each), one every --interval-ms (default 10), then `end`
// {"id", "n", "sha256"}, the hex SHA-256 of the data in seq order. --events renames the
// three events (a service with its own names; the suites read them from a variables file).
//
// --recovery on (default): `connectionStateRecovery` as the Socket.IO docs show it. Every
// event carries its offset as a last argument; a client that reconnects with the pid and the
// last offset it processed gets the same session back (same pid) and every event emitted
// meanwhile, once, in order. The stream keeps emitting while the client is away: those
// events wait in the adapter.
// --recovery off: no recovery; a reconnect is a new session and what was emitted meanwhile
// is lost.
// --replay duplicate|skip: recovery on, but the adapter's restore is off by one, as a
// hand-written adapter might be: `duplicate` replays from the last offset itself (the event
// the client already has comes again), `skip` drops the first missed event.
'use strict';

const crypto = require('crypto');
const http = require('http');
const { Server } = require('socket.io');

const options = { port: 0, recovery: 'on', replay: 'exact', intervalMs: 10, events: 'stream,chunk,end' };
const args = process.argv.slice(2);
const allowed = {
  '--port': ['port', (v) => Number.isInteger(Number(v)) ? Number(v) : undefined],
  '--recovery': ['recovery', (v) => ['on', 'off'].includes(v) ? v : undefined],
  '--replay': ['replay', (v) => ['exact', 'duplicate', 'skip'].includes(v) ? v : undefined],
  '--interval-ms': ['intervalMs', (v) => Number(v) >= 0 ? Number(v) : undefined],
  '--events': ['events', (v) => v.split(',').length === 3 ? v : undefined],
};
for (let i = 0; i < args.length; i += 2) {
  const spec = allowed[args[i]];
  const value = spec && args[i + 1] !== undefined ? spec[1](args[i + 1]) : undefined;
  if (value === undefined) {
    console.error(`usage: sio_stream.js [--port N] [--recovery on|off] [--replay exact|duplicate|skip] ` +
                  `[--interval-ms N] [--events stream,chunk,end]; got ${args.join(' ')}`);
    process.exit(2);
  }
  options[spec[0]] = value;
}
const [startEvent, chunkEvent, endEvent] = options.events.split(',');

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  ...(options.recovery === 'on' ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 } } : {}),
});

if (options.recovery === 'on' && options.replay !== 'exact') {
  const adapter = io.of('/').adapter;
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async function offByOne(pid, offset) {
    const session = await restore(pid, offset);
    if (session && options.replay === 'skip') {
      session.missedPackets.shift();
    } else if (session && options.replay === 'duplicate') {
      const last = adapter.packets.find((packet) => packet.id === offset);
      if (last) session.missedPackets.unshift(last.data);
    }
    return session;
  };
}

function chunkData(id, seq, size) {
  let data = '';
  for (let round = 0; data.length < size; round++) {
    data += crypto.createHash('sha256').update(`${id}:${seq}:${round}`).digest('hex');
  }
  return data.slice(0, size);
}

io.on('connection', function connection(socket) {
  // A recovered socket gets the listener again; the streams it had keep running (they emit
  // to the session's room, which the recovered socket joined).
  socket.on(startEvent, function start(request) {
    const n = Number(request && request.n);
    const size = Number(request && request.size);
    if (!Number.isInteger(n) || n < 1 || !Number.isInteger(size) || size < 1) return;
    const id = crypto.randomBytes(8).toString('hex');
    const hash = crypto.createHash('sha256');
    let seq = 0;
    const next = () => {
      if (options.recovery === 'off' && socket.disconnected) return; // nobody will get it
      seq += 1;
      const data = chunkData(id, seq, size);
      hash.update(data);
      socket.emit(chunkEvent, { id, seq, data });
      if (seq < n) {
        setTimeout(next, options.intervalMs);
      } else {
        socket.emit(endEvent, { id, n, sha256: hash.digest('hex') });
      }
    };
    setTimeout(next, options.intervalMs);
  });
});

httpServer.listen(options.port, '127.0.0.1', function listening() {
  const { port: bound } = httpServer.address();
  console.log(`listening on ws://127.0.0.1:${bound}/`);
});

function stop() {
  io.close(() => process.exit(0));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
