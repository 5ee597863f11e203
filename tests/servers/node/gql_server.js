#!/usr/bin/env node
// A third-party stand-in on Node.js: a graphql-ws 6 server on `ws` 8 (the library's own `ws`
// adapter, `useServer`), the graphql-transport-ws subprotocol, nothing of ours inside.
//
//   node gql_server.js [--port N] [--token T] [--keep-alive MS] [--leak-kib N]
//
// prints `listening on ws://127.0.0.1:PORT/` once it listens and stops on SIGTERM or SIGINT.
// Schema: `query { hello }` and `subscription { greetings }`.
//
//   --token T        connection_init must carry {"token": T} (else close 4403 Forbidden)
//   --keep-alive MS  the ws adapter's RFC 6455 ping interval (default 12000, graphql-ws's)
//   --leak-kib N     keep N KiB per connection forever: the memory leak 006.4 must catch
'use strict';

const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { GraphQLSchema, GraphQLObjectType, GraphQLString } = require('graphql');

function options(argv) {
  const parsed = { port: 0, token: '', keepAlive: 12000, leakKib: 0 };
  const names = { '--port': 'port', '--token': 'token', '--keep-alive': 'keepAlive', '--leak-kib': 'leakKib' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (name === undefined || i + 1 >= argv.length) {
      console.error(`usage: gql_server.js [--port N] [--token T] [--keep-alive MS] [--leak-kib N]; got ${argv[i]}`);
      process.exit(2);
    }
    parsed[name] = name === 'token' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return parsed;
}

const opts = options(process.argv.slice(2));
const retained = [];
let accepted = 0;

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      greetings: {
        type: GraphQLString,
        subscribe: async function* greetings() {
          for (const hi of ['hi', 'bonjour', 'hola']) yield { greetings: hi };
        },
      },
    },
  }),
});

const wss = new WebSocketServer({ host: '127.0.0.1', port: opts.port });
useServer({
  schema,
  onConnect: (ctx) => {
    if (opts.token && (ctx.connectionParams || {}).token !== opts.token) return false; // 4403
    accepted += 1;
    if (opts.leakKib > 0) retained.push(Buffer.alloc(opts.leakKib * 1024, (accepted % 251) + 1));
    return true;
  },
}, wss, opts.keepAlive);

wss.on('listening', () => {
  console.log(`listening on ws://127.0.0.1:${wss.address().port}/`);
});

function stop() {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
