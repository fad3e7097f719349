// The admin JSON API (docs/protocol.md, "Admin API"): who may ask, and a room's
// view true to a scripted scenario, on one node and from every node of a cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, startCluster, Client, getJson, adminPages, history, checkAcked } from './lib.mjs';
import { sign, inOneHour } from './jwt.mjs';

const SECRET = 'an-admin-test-secret-long-enough-0123456789';
const token = (claims) => sign({ exp: inOneHour(), ...claims }, { secret: SECRET });
const bearer = (t) => ({ headers: { Authorization: `Bearer ${t}` } });

// SIGKILLs a cluster's node and resolves its row once each node of `ks` lists it down.
async function killUntilDown(cluster, id, ks = [1]) {
  process.kill(cluster.pids[id], 'SIGKILL');
  let down;
  for (const k of ks) {
    down = undefined;
    for (let i = 0; i < 100 && !down; ++i) {
      const r = await getJson(`${cluster.http(k)}/admin/api/nodes`);
      down = r.body.nodes.find((n) => n.id === id && n.status === 'down');
      if (!down) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(down, `${id} not listed down by n${k} within 10 s`);
  }
  return down;
}

test('GET /admin/api/rooms/{room}: 401 without a token, 403 without the admin scope, 404 for a room without a log, 400 for a bad name', async () => {
  const node = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
  try {
    const url = `${node.http}/admin/api/rooms/lobby`;
    const none = await getJson(url);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthorized');
    const user = await getJson(url, bearer(token({ sub: 'alice' })));
    assert.equal(user.status, 403);
    assert.equal(user.body.code, 'forbidden');
    const publisher = await getJson(url, bearer(token({ sub: 'svc', scope: 'publish' })));
    assert.equal(publisher.status, 403);
    const admin = bearer(token({ sub: 'ops', scope: ['admin'] }));
    const missing = await getJson(url, admin);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.type, 'error');
    assert.equal(missing.body.code, 'not_found');
    const bad = await getJson(`${node.http}/admin/api/rooms/a%20b`, admin);
    assert.equal(bad.status, 400);
    const unknown = await getJson(`${node.http}/admin/api/whatever`, admin);
    assert.equal(unknown.status, 404);
    const post = await getJson(url, { method: 'POST', ...admin });
    assert.equal(post.status, 405);
  } finally {
    await node.stop();
  }
});

/** Joins alice and bob to `room` on their nodes and sends 7 messages from alice. */
async function scenario(aliceUrl, bobUrl, room) {
  const alice = await Client.connect(aliceUrl);
  const bob = await Client.connect(bobUrl);
  await alice.join(room);
  await bob.join(room);
  for (let i = 1; i <= 7; ++i) {
    const ack = await alice.request({ type: 'send', room, id: `m-${i}`, body: { i } });
    assert.equal(ack.type, 'ack');
    assert.equal(ack.seq, i);
  }
  await bob.take(7, (f) => f.type === 'message' && f.room === room);
  return [alice, bob];
}

function checkView(view, { room, members }) {
  for (const key of ['room', 'home', 'replicas', 'epoch', 'seq', 'vc', 'members', 'mailbox', 'recent'])
    assert.ok(key in view, `field ${key}`);
  assert.equal(view.room, room);
  assert.equal(view.seq, 7);
  assert.equal(Object.values(view.vc).reduce((a, b) => a + b, 0), 7, 'the vector clock counts the 7 messages');
  assert.deepEqual(view.members.map((m) => [m.user, m.node]), members);
  for (const m of view.members) assert.match(m.connection, new RegExp(`^${m.node}:\\d+$`));
  assert.deepEqual(view.recent.map((f) => f.id), ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6', 'm-7']);
  assert.ok(view.recent.every((f) => f.type === 'message' && f.room === room));
  assert.equal(typeof view.mailbox, 'number');
}

test('a room seen through the admin API after 7 sends: seq 7, its two members, its recent messages; passivated, it goes on; after a restart, from the store (one node, --dev)', async () => {
  const node = await startNode();
  try {
    const [alice, bob] = await scenario(node.ws('alice'), node.ws('bob'), 'lobby');
    const view = await getJson(`${node.http}/admin/api/rooms/lobby`);
    assert.equal(view.status, 200);
    checkView(view.body, { room: 'lobby', members: [['alice', 'n1'], ['bob', 'n1']] });
    assert.equal(view.body.home, 'n1');
    assert.deepEqual(view.body.replicas, []);
    assert.equal(view.body.active, true);
    // Passivate: the room's actor stops after its commit in flight; its members
    // stay (their relay joins the fresh actor) and the log goes on at seq 8.
    const stop = await getJson(`${node.http}/admin/api/rooms/lobby/passivate`, { method: 'POST' });
    assert.equal(stop.status, 200);
    assert.deepEqual(stop.body, { type: 'ok' });
    // A send that reaches the room while it stops is answered `unavailable`:
    // resent with the same id, as clients do.
    let ack;
    for (let i = 0; i < 50; ++i) {
      ack = await alice.request({ type: 'send', room: 'lobby', id: 'm-8', body: { i: 8 } });
      if (ack.type === 'ack' || ack.code !== 'unavailable') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.seq, 8);
    const eighth = await bob.next((f) => f.type === 'message' && f.id === 'm-8');
    assert.equal(eighth.seq, 8);
    assert.equal((await getJson(`${node.http}/admin/api/rooms/lobby`)).body.members.length, 2);
    assert.equal((await getJson(`${node.http}/admin/api/rooms/nowhere/passivate`, { method: 'POST' })).status, 404);
    assert.equal((await getJson(`${node.http}/admin/api/rooms/lobby/passivate`)).status, 405);
    alice.close();
    bob.close();
  } finally {
    await node.stop();
  }
  // After a restart the room is not active: its view comes from the store.
  const again = await startNode({ dataDir: node.dir });
  try {
    const view = await getJson(`${again.http}/admin/api/rooms/lobby`);
    assert.equal(view.status, 200);
    assert.equal(view.body.active, false);
    assert.equal(view.body.seq, 8);
    assert.deepEqual(view.body.members, []);
    assert.deepEqual(view.body.recent.map((f) => f.id), ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6', 'm-7', 'm-8']);
    // Looking does not activate it.
    assert.equal((await getJson(`${again.http}/admin/api/rooms/lobby`)).body.active, false);
  } finally {
    await again.stop();
    again.cleanup();
  }
});

test('three nodes: every node answers for a room homed anywhere, with its home, replicas and members per node', async () => {
  const cluster = await startCluster();
  try {
    const room = 'admin-room';
    const [alice, bob] = await scenario(cluster.ws(1, 'alice'), cluster.ws(3, 'bob'), room);
    const views = [];
    for (let k = 1; k <= 3; ++k) {
      const r = await getJson(`${cluster.http(k)}/admin/api/rooms/${room}`);
      assert.equal(r.status, 200, `asked on n${k}: ${JSON.stringify(r.body)}`);
      checkView(r.body, { room, members: [['alice', 'n1'], ['bob', 'n3']] });
      views.push(r.body);
    }
    const { home, replicas, epoch } = views[0];
    console.log(`# ${room}: home ${home}, replicas ${JSON.stringify(replicas)}, epoch ${epoch}`);
    assert.match(home, /^n[123]$/);
    assert.equal(replicas.length, 1, '--replication 2: one other node');
    assert.notEqual(replicas[0], home);
    assert.ok(epoch >= 1, 'a cluster room is written under a ballot');
    for (const v of views) assert.deepEqual([v.home, v.replicas, v.epoch], [home, replicas, epoch]);
    alice.close();
    bob.close();
  } finally {
    await cluster.stop();
  }
});

const allPages = (base, query) => adminPages(base, 'rooms', query);

test('GET /admin/api/rooms: active rooms by name, in pages that neither skip nor repeat; bad queries are 400', async () => {
  const node = await startNode();
  try {
    const c = await Client.connect(node.ws('lister'));
    for (const r of ['pg-3', 'pg-1', 'other', 'pg-5', 'pg-2', 'pg-4']) await c.join(r);
    await c.request({ type: 'send', room: 'pg-2', id: 'x', body: 1 });
    const pages = await allPages(node.http, 'prefix=pg-&limit=2');
    assert.deepEqual(pages.map((p) => p.rooms.map((r) => r.room)), [['pg-1', 'pg-2'], ['pg-3', 'pg-4'], ['pg-5']]);
    assert.deepEqual(pages.map((p) => p.next), ['pg-2', 'pg-4', null]);
    const two = pages[0].rooms[1];
    assert.deepEqual(two, { room: 'pg-2', home: 'n1', seq: 1, members: 1 });
    const all = await getJson(`${node.http}/admin/api/rooms`);
    assert.deepEqual(all.body.rooms.map((r) => r.room), ['other', 'pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']);
    assert.equal(all.body.next, null);
    for (const q of ['limit=0', 'limit=501', 'limit=x', 'prefix=a%20b', 'cursor=%2F'])
      assert.equal((await getJson(`${node.http}/admin/api/rooms?${q}`)).status, 400, q);
    c.close();
  } finally {
    await node.stop();
  }
});

test('three nodes: the rooms list from any node holds the rooms of every home, once each', async () => {
  const cluster = await startCluster();
  try {
    const c = await Client.connect(cluster.ws(1, 'lister'));
    const names = Array.from({ length: 12 }, (_, i) => `cl-${String(i).padStart(2, '0')}`);
    for (const r of names) await c.join(r);
    for (let k = 1; k <= 3; ++k) {
      const pages = await allPages(cluster.http(k), 'prefix=cl-&limit=5');
      const listed = pages.flatMap((p) => p.rooms);
      assert.deepEqual(listed.map((r) => r.room), names, `asked on n${k}`);
      assert.ok(pages.slice(0, -1).every((p) => p.rooms.length === 5));
      const homes = new Set(listed.map((r) => r.home));
      assert.ok(homes.size >= 2, `rooms on several homes: ${[...homes]}`);
      assert.ok(listed.every((r) => r.members === 1));
    }
    c.close();
  } finally {
    await cluster.stop();
  }
});

test('GET /admin/api/nodes: one node lists itself with its connections and rooms; view 0 outside a cluster', async () => {
  const node = await startNode();
  try {
    const c = await Client.connect(node.ws('nodes-user'));
    await c.join('nodes-room');
    for (const id of ['n-1', 'n-2']) await c.request({ type: 'send', room: 'nodes-room', id, body: id });
    await c.take(2, (f) => f.type === 'message');
    const r = await getJson(`${node.http}/admin/api/nodes`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.self, 'n1');
    assert.equal(r.body.view, 0);
    const { delivery_histogram: histogram, ...n1 } = r.body.nodes[0];
    assert.deepEqual(n1, { id: 'n1', http: node.http, cluster: null, status: 'up', connections: 1, rooms: 1, messages: 2, deliveries: 2 });
    assert.equal(r.body.nodes.length, 1);
    // The delivery latency histogram: cumulative counts per bound, then +Inf.
    assert.equal(histogram.length, r.body.delivery_bounds_us.length + 1);
    assert.equal(histogram.at(-1), 2, 'two messages delivered to one member');
    assert.ok(histogram.every((n, i) => i === 0 || n >= histogram[i - 1]));
    const post = await getJson(`${node.http}/admin/api/nodes`, { method: 'POST' });
    assert.equal(post.status, 405);
    c.close();
  } finally {
    await node.stop();
  }
});

test('three nodes: GET /admin/api/nodes from any node lists all three with one view number; a killed node is listed down, without numbers', async () => {
  const cluster = await startCluster();
  try {
    const clients = [];
    for (let k = 1; k <= 3; ++k) clients.push(await Client.connect(cluster.ws(k, `nodes${k}`)));
    const views = new Set();
    for (let k = 1; k <= 3; ++k) {
      const r = await getJson(`${cluster.http(k)}/admin/api/nodes`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.self, `n${k}`);
      assert.ok(r.body.view > 0, 'the membership log numbers the view');
      views.add(r.body.view);
      assert.deepEqual(r.body.nodes.map((n) => n.id), ['n1', 'n2', 'n3']);
      for (const [i, n] of r.body.nodes.entries()) {
        assert.equal(n.status, 'up');
        assert.equal(n.http, cluster.http(i + 1));
        assert.match(n.cluster, /^127\.0\.0\.1:\d+$/);
        assert.equal(n.connections, 1, `one client on n${i + 1}`);
        assert.equal(typeof n.rooms, 'number');
      }
    }
    assert.equal(views.size, 1, 'every node counts the same member set');
    const down = await killUntilDown(cluster, 'n3');
    assert.equal(down.connections, null);
    assert.equal(down.rooms, null);
    assert.match(down.cluster, /^127\.0\.0\.1:\d+$/);
    for (const c of clients.slice(0, 2)) c.close();
  } finally {
    await cluster.stop();
  }
});

test('three nodes: POST /admin/api/repair after a node was killed starts a repair on every node up, each logs its outcome; other methods are 405', async () => {
  const cluster = await startCluster();
  try {
    const c = await Client.connect(cluster.ws(1, 'repairer'));
    for (let i = 0; i < 6; ++i) {
      await c.join(`repair-${i}`);
      assert.equal((await c.request({ type: 'send', room: `repair-${i}`, id: `r${i}`, body: { i } })).type, 'ack');
    }
    c.close();
    await killUntilDown(cluster, 'n3', [1, 2]); // each node up repairs without n3
    assert.equal((await getJson(`${cluster.http(1)}/admin/api/repair`)).status, 405);
    const from = cluster.log().length; // a repair at the cluster's start logs too
    const r = await getJson(`${cluster.http(2)}/admin/api/repair`, { method: 'POST' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { repairing: ['n1', 'n2'] });
    // Each node up says how many of the rooms it stores are on their replica
    // sets once its sweep is done (every one: two nodes up, R = 2).
    const done = () => [...cluster.log().slice(from).matchAll(/repair: (\d+) of (\d+) room\(s\) stored here/g)];
    for (let i = 0; i < 150 && done().length < 2; ++i) await new Promise((res) => setTimeout(res, 100));
    const lines = done();
    assert.equal(lines.length, 2, cluster.log().slice(-3000));
    for (const [, repaired, rooms] of lines) assert.equal(repaired, rooms);
    assert.ok(lines.some(([, , rooms]) => Number(rooms) > 0), 'the rooms were stored somewhere');
  } finally {
    await cluster.stop();
  }
});

test('three nodes: POST /admin/api/nodes/{id}/remove removes a member killed for good once every node up repaired without it; refused for a node up, a bad id, a stranger; every ack kept', async () => {
  const cluster = await startCluster();
  try {
    const c = await Client.connect(cluster.ws(1, 'remover'));
    const acks = new Map();
    for (let i = 0; i < 6; ++i) {
      const room = `remove-${i}`;
      await c.join(room);
      const a = await c.request({ type: 'send', room, id: `r${i}`, body: { i } });
      assert.equal(a.type, 'ack');
      acks.set(room, [{ id: `r${i}`, seq: a.seq }]);
    }
    c.close();
    const post = (k, id) => getJson(`${cluster.http(k)}/admin/api/nodes/${id}/remove`, { method: 'POST' });
    let r = await post(1, 'n3');
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.message, /node 'n3' is up: stop it with SIGTERM/);
    assert.equal((await post(1, 'bad%20id')).status, 400);
    assert.equal((await post(1, 'n9')).status, 404);
    assert.equal((await getJson(`${cluster.http(1)}/admin/api/nodes/n3/remove`)).status, 405);

    await killUntilDown(cluster, 'n3', [1, 2]);
    r = await post(2, 'n3');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.removed, 'n3');
    // Both survivors list two members up and nothing down once the log removed it.
    for (const k of [1, 2]) {
      let nodes;
      for (let i = 0; i < 100; ++i) {
        nodes = (await getJson(`${cluster.http(k)}/admin/api/nodes`)).body.nodes;
        if (nodes.length === 2) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.deepEqual(nodes.map((n) => [n.id, n.status]), [['n1', 'up'], ['n2', 'up']], `as n${k} lists them`);
    }
    for (const [room, seen] of acks) checkAcked(seen, [await history(cluster.http(1), room), await history(cluster.http(2), room)]);
  } finally {
    await cluster.stop();
  }
});

test('GET /admin/api/actors: each kind of actor with its count and largest mailbox, and the store with RocksDB; of another node too', async () => {
  const cluster = await startCluster();
  try {
    const clients = [];
    for (const u of ['k1', 'k2']) clients.push(await Client.connect(cluster.ws(1, u)));
    for (const c of clients) await c.join('kinds-room');
    await clients[0].request({ type: 'send', room: 'kinds-room', id: 'k-1', body: 1 });
    for (let k = 1; k <= 3; ++k) {
      const r = await getJson(`${cluster.http(k)}/admin/api/actors?node=n1`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.node, 'n1');
      const kinds = Object.fromEntries(r.body.kinds.map((x) => [x.kind, x]));
      assert.deepEqual(Object.keys(kinds), ['connection', 'room', 'relay', 'presence_shard', 'store', 'directory', 'inspector', 'membership']);
      assert.equal(kinds.connection.count, 2, 'the two clients on n1');
      assert.equal(kinds.relay.count, 1, "n1's relay of kinds-room");
      assert.ok(kinds.presence_shard.count >= 1);
      for (const x of r.body.kinds) assert.equal(typeof x.mailbox_max, 'number');
      assert.equal(kinds.store.count, 1);
      const s = r.body.store;
      assert.ok(s.appends >= 0 && s.commits >= 0 && s.pending >= 0);
      assert.equal(s.failing, false);
      assert.ok(s.commit_mean_us > 0 && s.commit_p99_us >= s.commit_mean_us / 10, JSON.stringify(s));
      const dir = r.body.directory;
      assert.deepEqual(dir.ring, ['n1', 'n2', 'n3']);
      assert.deepEqual(dir.up, ['n1', 'n2', 'n3']);
      assert.deepEqual(dir.down, []);
      assert.equal(dir.replication, 2);
      assert.ok(dir.view > 0 && dir.members === 3 && dir.joining === false && dir.leaving === false, JSON.stringify(dir));
      // The membership: its Raft log and its peers, as n1 holds them.
      const mem = r.body.membership;
      assert.equal(mem.node, 'n1');
      assert.deepEqual(mem.log.voters, ['n1', 'n2', 'n3']);
      assert.equal(mem.log.index, dir.view);
      assert.ok(mem.log.commit >= mem.log.index && mem.log.term >= 1, JSON.stringify(mem.log));
      assert.match(mem.log.leader, /^n[123]$/);
      assert.deepEqual(mem.peers.map((p) => [p.id, p.up]), [['n2', true], ['n3', true]]);
      assert.equal(typeof s.rocksdb.properties['rocksdb.estimate-num-keys'], 'number');
      assert.match(s.rocksdb.stats, /DB Stats/);
    }
    // Rooms are counted on their home.
    const homes = [];
    for (let k = 1; k <= 3; ++k) {
      const r = await getJson(`${cluster.http(1)}/admin/api/actors?node=n${k}`);
      assert.equal(r.body.node, `n${k}`);
      homes.push(r.body.kinds.find((x) => x.kind === 'room').count);
    }
    assert.equal(homes.reduce((a, b) => a + b), 1, `one room actor in the cluster: ${homes}`);
    const here = await getJson(`${cluster.http(2)}/admin/api/actors`);
    assert.equal(here.body.node, 'n2');
    assert.equal(here.body.membership.node, 'n2');
    assert.equal((await getJson(`${cluster.http(2)}/admin/api/actors?node=n9`)).status, 404);
    assert.equal((await getJson(`${cluster.http(2)}/admin/api/actors?node=a%2Fb`)).status, 400);
    assert.equal((await getJson(`${cluster.http(2)}/admin/api/actors`, { method: 'POST' })).status, 405);
    for (const c of clients) c.close();
  } finally {
    await cluster.stop();
  }
});
