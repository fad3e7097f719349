// chatctl against real nodes: every subcommand as a table and as --json, the
// environment's defaults, and each error: a node that is down, a bad token, a
// missing room, a bad URL, bad usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, freePortBase, Client, getJson, runProgram } from './lib.mjs';
import { sign, inOneHour } from './jwt.mjs';

const CHATCTL =
  process.env.CHATCTL ?? new URL('../../build/bin/chatctl', import.meta.url).pathname;

/** Runs chatctl with only PATH and `env` in its environment. */
const chatctl = (args, env = {}) => runProgram(CHATCTL, args, { env, timeoutMs: 20000, cleanEnv: true });

test('chatctl on a --dev node: nodes, rooms, room, connections, presence and kick, as tables and as --json', async () => {
  const node = await startNode();
  const url = ['--url', node.http];
  try {
    const alice = await Client.connect(node.ws('alice'));
    const bob = await Client.connect(node.ws('bob'));
    await alice.join('ctl-room');
    await bob.join('ctl-room');
    for (let i = 1; i <= 3; ++i) await alice.request({ type: 'send', room: 'ctl-room', id: `c-${i}`, body: `hello ${i}` });
    await alice.request({ type: 'ping' });

    const nodes = await chatctl([...url, 'nodes']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /^view 0, as n1 sees it\nNODE\s+STATUS\s+HTTP\s+CLUSTER\s+CONNECTIONS\s+ROOMS\nn1\s+up\s+http:\/\/127\.0\.0\.1:\d+\s+-\s+2\s+1\n$/);
    const nodesJson = await chatctl([...url, '--json', 'nodes']);
    assert.deepEqual(JSON.parse(nodesJson.stdout), (await getJson(`${node.http}/admin/api/nodes`)).body);

    const rooms = await chatctl([...url, 'rooms', '--prefix', 'ctl-']);
    assert.equal(rooms.code, 0, rooms.stderr);
    assert.match(rooms.stdout, /^ROOM\s+HOME\s+SEQ\s+MEMBERS\nctl-room\s+n1\s+3\s+2\n$/);
    assert.deepEqual(JSON.parse((await chatctl([...url, '--json', 'rooms'])).stdout), { rooms: [{ room: 'ctl-room', home: 'n1', seq: 3, members: 2 }], next: null });
    assert.equal((await chatctl([...url, 'rooms', '--prefix', 'none-'])).stdout, 'no active rooms\n');

    const room = await chatctl([...url, 'room', 'ctl-room']);
    assert.equal(room.code, 0, room.stderr);
    assert.match(room.stdout, /^room\s+ctl-room$/m);
    assert.match(room.stdout, /^seq\s+3 /m);
    assert.match(room.stdout, /^alice\s+n1\s+n1:\d+$/m);
    assert.match(room.stdout, /^bob\s+n1\s+n1:\d+$/m);
    assert.match(room.stdout, /^3\s+alice\s+c-3\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+"hello 3"$/m);
    assert.equal(JSON.parse((await chatctl([...url, '--json', 'room', 'ctl-room'])).stdout).seq, 3);

    const conns = await chatctl([...url, 'connections']);
    assert.equal(conns.code, 0, conns.stderr);
    const lines = conns.stdout.trim().split('\n');
    assert.match(lines[0], /^ID\s+USER\s+NODE\s+TRANSPORT\s+REMOTE\s+ROOMS\s+QUEUED\s+OPENED$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1], /^n1:\d+\s+alice\s+n1\s+ws\s+127\.0\.0\.1:\d+\s+ctl-room\s+\d+\s+\d{4}-/);
    const mine = JSON.parse((await chatctl([...url, '--json', 'connections', '--user', 'bob'])).stdout);
    assert.equal(mine.connections.length, 1);
    assert.equal(mine.connections[0].user, 'bob');
    assert.equal(mine.next, null);
    assert.equal((await chatctl([...url, 'connections', '--user', 'nobody'])).stdout, 'no connections\n');

    const actors = await chatctl([...url, 'actors']);
    assert.equal(actors.code, 0, actors.stderr);
    assert.match(actors.stdout, /^actors on n1\nKIND\s+COUNT\s+MAILBOX MAX\nconnection\s+2\s+\d+\nroom\s+1\s+\d+\n/);
    assert.match(actors.stdout, /^store: \d+ pending, 3 appends in \d+ commits$/m);
    assert.match(actors.stdout, /^rocksdb\.estimate-num-keys\s+\d+$/m);
    assert.equal(JSON.parse((await chatctl([...url, '--json', 'actors', '--node', 'n1'])).stdout).node, 'n1');
    assert.equal((await chatctl([...url, 'actors', '--node', 'n7'])).code, 1);

    const presence = await chatctl([...url, 'presence', 'alice']);
    assert.equal(presence.code, 0, presence.stderr);
    assert.match(presence.stdout, /^alice is online, last seen \d{4}-.*\nCONNECTION\s+NODE\s+LAST HEARTBEAT\nn1:\d+\s+n1\s+\d{4}-/);
    const zed = await chatctl([...url, '--json', 'presence', 'zed']);
    assert.equal(zed.code, 1, 'a user never seen is not found');
    assert.match(zed.stderr, /^chatctl: not_found: no user 'zed' has been seen on this cluster \(HTTP 404\)\n$/);

    // kick: bob's client sees 4000; the default URL comes from CHAT_URL.
    const kick = await chatctl(['kick', mine.connections[0].id], { CHAT_URL: node.http });
    assert.equal(kick.code, 0, kick.stderr);
    assert.equal(kick.stdout, `closed ${mine.connections[0].id}\n`);
    assert.deepEqual(await bob.closedWith(), { code: 4000, reason: 'closed by admin' });
    const again = await chatctl([...url, 'kick', mine.connections[0].id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^chatctl: not_found: no connection 'n1:\d+' \(HTTP 404\)\n$/);

    // repair: one node asks itself; --json gives the API's answer.
    const repair = await chatctl([...url, 'repair']);
    assert.equal(repair.code, 0, repair.stderr);
    assert.equal(repair.stdout, "repairing on 1 node(s); each logs 'repair: N of M room(s)' when done\n");
    assert.deepEqual(JSON.parse((await chatctl([...url, '--json', 'repair'])).stdout), { repairing: ['n1'] });
    // remove-node: one node is no cluster; the node's reason on stderr, exit 1.
    const remove = await chatctl([...url, 'remove-node', 'n2']);
    assert.equal(remove.code, 1);
    assert.match(remove.stderr, /bad_request: not in a cluster: there is no member to remove \(HTTP 400\)/);
    assert.equal((await chatctl([...url, 'remove-node'])).code, 2, 'the node id is required');
    alice.close();
  } finally {
    await node.stop();
  }
});

test('chatctl errors: a missing room, a node that is down, a bad token, a bad URL and bad usage', async () => {
  const SECRET = 'a-chatctl-test-secret-long-enough-0123456789';
  const node = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
  try {
    const admin = sign({ exp: inOneHour(), sub: 'ops', scope: 'admin' }, { secret: SECRET });
    const user = sign({ exp: inOneHour(), sub: 'alice' }, { secret: SECRET });
    const url = ['--url', node.http];
    const missing = await chatctl([...url, '--token', admin, 'room', 'no-such-room']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "chatctl: not_found: no room 'no-such-room' on this cluster (HTTP 404)\n");
    const ok = await chatctl(['nodes'], { CHAT_URL: node.http, CHAT_TOKEN: admin });
    assert.equal(ok.code, 0, ok.stderr);
    const none = await chatctl([...url, 'nodes']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^chatctl: unauthorized: .*\(HTTP 401\); give an admin token with --token or CHAT_TOKEN\n$/);
    const bad = await chatctl([...url, '--token', 'not.a.token', 'nodes']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unauthorized/);
    const notAdmin = await chatctl([...url, '--token', user, 'connections']);
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /^chatctl: forbidden: .*\(HTTP 403\); the token needs the 'admin' scope\n$/);
  } finally {
    await node.stop();
  }
  const [port] = [await freePortBase(1)];
  const down = await chatctl(['--url', `http://127.0.0.1:${port}`, 'nodes']);
  assert.equal(down.code, 1);
  assert.equal(down.stderr, `chatctl: cannot reach http://127.0.0.1:${port}: Connection refused\n`);
  for (const args of [['--url', 'ftp://x', 'nodes'], ['--url', 'http://h:99999', 'nodes'], ['--url', 'http://h:1/path', 'nodes']]) {
    const r = await chatctl(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^chatctl: '.*'/);
  }
  for (const args of [[], ['nodes', 'extra'], ['room'], ['kick'], ['frobnicate'], ['--nope', 'nodes']]) {
    const r = await chatctl(args);
    assert.equal(r.code, 2, `usage: ${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
  const help = await chatctl(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Subcommands:/);
});
