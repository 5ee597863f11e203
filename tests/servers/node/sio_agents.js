#!/usr/bin/env node
// A Socket.IO 4 service with agents, the way a real one might have them: one agent per user,
// shared by that user's connections and retired a grace period after the user's last one.
// It follows the agent convention of docs/profiles.md (WS-RESILIENCE-006) and exposes the
// agent metrics of docs/protocol.md section 9 on /metrics.
//
//   node sio_agents.js [--port N] [--token T] [--ping-interval MS] [--ping-timeout MS]
//                      [--grace MS] [--agent-event NAME] [--duplicate-agents] [--leak-sockets]
//                      [--leak-kib N]
//
// prints `listening on ws://127.0.0.1:PORT/` (the service URL; the socketio profile adds
// /socket.io/), and stops on SIGTERM or SIGINT.
//
//   CONNECT auth    {"user": NAME, "token": T}: refused with CONNECT_ERROR "invalid token"
//                   when --token is given and the token differs, "no user" without a user
//   event `agent`   answered with event `agent` {"agent_id", "agents"}: the user's agent and
//                   how many agent instances the service holds for that user right now
//                   (--agent-event names both events otherwise)
//   /metrics        ws_open_connections (Engine.IO clients), ws_agent_instances,
//                   ws_agent_instances_per_user_max, process_resident_memory_bytes,
//                   process_open_fds (read from /proc/self/fd), nodejs_heap_size_used_bytes,
//                   nodejs_heap_size_total_bytes, nodejs_external_memory_bytes (prom-client's names)
//
// Broken on purpose:
//   --duplicate-agents  every connection creates a new agent and the old one is never retired
//                       (WS-RESILIENCE-006.3 must FAIL)
//   --leak-sockets      every connection opens a TCP socket to a backend and never closes it:
//                       Socket.IO's own counts drop, the descriptors never do (006.4 and
//                       006.6 must FAIL)
//   --leak-kib N        keep N KiB per connection forever (006.4 must FAIL)
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');
const { Server } = require('socket.io');

function options(argv) {
  const parsed = { port: 0, token: '', agentEvent: 'agent', pingInterval: 25000, pingTimeout: 20000, grace: 1000,
    duplicateAgents: false, leakSockets: false, leakKib: 0 };
  const valued = { '--port': 'port', '--token': 'token', '--ping-interval': 'pingInterval',
    '--ping-timeout': 'pingTimeout', '--grace': 'grace', '--agent-event': 'agentEvent', '--leak-kib': 'leakKib' };
  const flags = { '--duplicate-agents': 'duplicateAgents', '--leak-sockets': 'leakSockets' };
  for (let i = 0; i < argv.length; i += 1) {
    if (flags[argv[i]]) {
      parsed[flags[argv[i]]] = true;
    } else if (valued[argv[i]] && i + 1 < argv.length) {
      const name = valued[argv[i]];
      parsed[name] = ['token', 'agentEvent'].includes(name) ? argv[i + 1] : Number(argv[i + 1]);
      i += 1;
    } else {
      console.error(`usage: sio_agents.js [--port N] [--token T] [--ping-interval MS] [--ping-timeout MS]`
        + ` [--grace MS] [--agent-event NAME] [--duplicate-agents] [--leak-sockets] [--leak-kib N]; got ${argv[i]}`);
      process.exit(2);
    }
  }
  return parsed;
}

const opts = options(process.argv.slice(2));
let nextAgent = 1;
const agentsByUser = new Map(); // user -> [{ id, users: count of connections, retire: timer }]
const leaked = []; // --leak-sockets, --leak-kib: what connections leave behind, never released

function liveAgents() {
  let total = 0;
  let perUserMax = 0;
  for (const agents of agentsByUser.values()) {
    total += agents.length;
    perUserMax = Math.max(perUserMax, agents.length);
  }
  return { total, perUserMax };
}

function agentFor(user) {
  const agents = agentsByUser.get(user) || [];
  agentsByUser.set(user, agents);
  let agent = opts.duplicateAgents ? undefined : agents[0];
  if (agent === undefined) {
    agent = { id: `agent-${nextAgent}`, connections: 0, retire: null };
    nextAgent += 1;
    agents.push(agent);
  }
  if (agent.retire !== null) {
    clearTimeout(agent.retire);
    agent.retire = null;
  }
  agent.connections += 1;
  return agent;
}

function release(user, agent) {
  agent.connections -= 1;
  if (agent.connections > 0 || opts.duplicateAgents) return; // duplicates are never retired
  agent.retire = setTimeout(() => {
    const agents = (agentsByUser.get(user) || []).filter((a) => a !== agent);
    if (agents.length) agentsByUser.set(user, agents); else agentsByUser.delete(user);
  }, opts.grace);
}

function openFds() {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch (err) {
    return undefined;
  }
}

const httpServer = http.createServer((req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  const { total, perUserMax } = liveAgents();
  const memory = process.memoryUsage();
  const lines = [
    `ws_open_connections ${io.engine.clientsCount}`,
    `ws_agent_instances ${total}`,
    `ws_agent_instances_per_user_max ${perUserMax}`,
    `process_resident_memory_bytes ${memory.rss}`,
    `nodejs_heap_size_used_bytes ${memory.heapUsed}`,
    `nodejs_heap_size_total_bytes ${memory.heapTotal}`,
    `nodejs_external_memory_bytes ${memory.external}`,
  ];
  const fds = openFds();
  if (fds !== undefined) lines.push(`process_open_fds ${fds}`);
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
});

const io = new Server(httpServer, {
  transports: ['websocket'],
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
});

// --leak-sockets: every Socket.IO connection opens a connection to a "backend" (a TCP
// listener in this same process, standing in for a database or queue) and never closes it:
// two descriptors a connection, kept forever. Socket.IO's own connection count stays right.
const backend = net.createServer((peer) => leaked.push(peer));
if (opts.leakSockets) {
  backend.listen(0, '127.0.0.1');
  io.on('connection', () => {
    leaked.push(net.connect(backend.address().port, '127.0.0.1'));
  });
}

io.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  if (opts.token && auth.token !== opts.token) return next(new Error('invalid token'));
  if (typeof auth.user !== 'string' || !auth.user) return next(new Error('no user'));
  return next();
});

let accepted = 0;
io.on('connection', (socket) => {
  accepted += 1;
  if (opts.leakKib > 0) leaked.push(Buffer.alloc(opts.leakKib * 1024, (accepted % 251) + 1));
  const user = socket.handshake.auth.user;
  const agent = agentFor(user);
  socket.on(opts.agentEvent, () => {
    socket.emit(opts.agentEvent, { agent_id: agent.id, agents: (agentsByUser.get(user) || []).length });
  });
  socket.on('message', (data) => socket.send(data));
  socket.on('disconnect', () => release(user, agent));
});

httpServer.listen(opts.port, '127.0.0.1', () => {
  console.log(`listening on ws://127.0.0.1:${httpServer.address().port}/`);
});

function stop() {
  for (const item of leaked) if (item.destroy) item.destroy();
  backend.close();
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
