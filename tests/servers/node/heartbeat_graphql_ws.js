#!/usr/bin/env node
// A graphql-ws 6 service for the heartbeat suite (WS-RESILIENCE-007 on WS_PROTOCOL=graphql-ws):
// graphql-ws's own `ws` adapter (`useServer` from graphql-ws/use/ws) over a trivial schema,
// nothing of ours inside.
//
//   node heartbeat_graphql_ws.js [--port N] [--keep-alive MS]
//
// prints `listening on ws://127.0.0.1:PORT/` once it listens and stops on SIGTERM or SIGINT. The
// adapter's keepAlive (--keep-alive MS, default 12000 as in graphql-ws; 0 switches it off) sends an
// RFC 6455 ping every MS and terminates a client whose pong has not come MS later: interval and
// timeout are both MS. GET /metrics answers Prometheus text: `ws_open_connections`, the server's
// count of open clients.
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { GraphQLObjectType, GraphQLSchema, GraphQLString } = require('graphql');

function options(argv) {
  const parsed = { port: 0, keepAlive: 12000 };
  const names = { '--port': 'port', '--keep-alive': 'keepAlive' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (name === undefined || !Number.isInteger(value) || value < 0) {
      console.error(`usage: heartbeat_graphql_ws.js [--port N] [--keep-alive MS]; got ${argv[i]} ${argv[i + 1]}`);
      process.exit(2);
    }
    parsed[name] = value;
  }
  return parsed;
}

const opts = options(process.argv.slice(2));

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
});

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
const cleanup = useServer({ schema }, wss, opts.keepAlive);

httpServer.listen(opts.port, '127.0.0.1', function listening() {
  console.log(`listening on ws://127.0.0.1:${httpServer.address().port}/`);
});

function stop() {
  cleanup.dispose().then(() => httpServer.close(() => process.exit(0)));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
