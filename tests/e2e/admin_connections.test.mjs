// The admin API's connections and presence (docs/protocol.md, "Admin API"):
// lists that neither skip nor repeat, one connection with its actor's and
// session's state, closing one from the API, a user's devices; on one node
// and from every node of a cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startNode, startCluster, Client, getJson, adminPages } from './lib.mjs';
import { sign, inOneHour } from './jwt.mjs';

const LIST_FIELDS = ['id', 'user', 'node', 'transport', 'remote', 'rooms', 'queued_bytes', 'opened_at'];

const allPages = (base, query) => adminPages(base, 'connections', query);

const until = async (what, fn, tries = 100) => {
  for (let i = 0; i < tries; ++i) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${what}`);
};

test('connections on one node: listed in pages with every field true to the clients, one inspected, one closed with 4000; bad requests are 400, unknown ids 404', async () => {
  const node = await startNode();
  const started = Date.now();
  const clients = [];
  let sse;
  try {
    for (const u of ['ann', 'ben', 'ann', 'cat', 'dan']) clients.push(await Client.connect(node.ws(u)));
    await clients[0].join('adm-a');
    await clients[0].join('adm-b');
    await clients[1].join('adm-a');
    sse = new EventSource(`${node.http}/sse?user=eve&rooms=adm-a`);
    await until('the SSE stream is listed', async () => {
      const r = await getJson(`${node.http}/admin/api/connections?user=eve`);
      return r.body.connections.length === 1;
    });
    const pages = await allPages(node.http, 'limit=2');
    assert.deepEqual(pages.map((p) => p.connections.length), [2, 2, 2]);
    const all = pages.flatMap((p) => p.connections);
    const ids = all.map((c) => c.id);
    assert.equal(new Set(ids).size, 6, 'no connection twice');
    assert.deepEqual(pages.map((p) => p.next), [ids[1], ids[3], null]);
    const numbers = ids.map((id) => Number(id.split(':')[1]));
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'ordered by connection');
    for (const c of all) {
      for (const key of LIST_FIELDS) assert.ok(key in c, `field ${key}`);
      assert.equal(c.node, 'n1');
      assert.match(c.id, /^n1:\d+$/);
      assert.match(c.remote, /^127\.0\.0\.1:\d+$/);
      assert.ok(c.opened_at >= started - 1000 && c.opened_at <= Date.now(), 'opened_at is the unix ms of its opening');
      assert.equal(typeof c.queued_bytes, 'number');
    }
    assert.deepEqual(all.map((c) => c.user).sort(), ['ann', 'ann', 'ben', 'cat', 'dan', 'eve']);
    assert.deepEqual(all.filter((c) => c.user === 'eve').map((c) => [c.transport, c.rooms]), [['sse', ['adm-a']]]);
    const anns = (await getJson(`${node.http}/admin/api/connections?user=ann`)).body;
    assert.deepEqual(anns.connections.map((c) => [c.transport, c.rooms]), [['ws', ['adm-a', 'adm-b']], ['ws', []]]);
    assert.equal(anns.next, null);
    const onNode = (await getJson(`${node.http}/admin/api/connections?node=n1&limit=500`)).body;
    assert.equal(onNode.connections.length, 6);
    assert.equal((await getJson(`${node.http}/admin/api/connections?node=n9`)).status, 404);

    // One connection: the list's fields and its actor's and session's state.
    const ben = all.find((c) => c.user === 'ben');
    await clients[1].request({ type: 'presence', users: ['ann', 'cat'] });
    await clients[1].request({ type: 'ping' });
    const one = await getJson(`${node.http}/admin/api/connections/${ben.id}`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    for (const key of [...LIST_FIELDS, 'rate_tokens', 'last_heartbeat', 'watching'])
      assert.ok(key in one.body, `field ${key}`);
    assert.equal(one.body.id, ben.id);
    assert.deepEqual(one.body.rooms, ['adm-a']);
    assert.equal(one.body.watching, 2);
    assert.equal(typeof one.body.rate_tokens, 'number');
    assert.ok(one.body.last_heartbeat >= started - 1000 && one.body.last_heartbeat <= Date.now(), 'the ping was a sign of life');

    // Closed from the API: the client sees 4000, the list no longer has it.
    const cat = all.find((c) => c.user === 'cat');
    const close = await getJson(`${node.http}/admin/api/connections/${cat.id}/close`, { method: 'POST' });
    assert.equal(close.status, 200, JSON.stringify(close.body));
    assert.deepEqual(close.body, { type: 'ok' });
    const closed = await clients[3].closedWith();
    assert.deepEqual(closed, { code: 4000, reason: 'closed by admin' });
    await until('the closed connection is gone', async () => {
      const r = await getJson(`${node.http}/admin/api/connections?user=cat`);
      return r.body.connections.length === 0;
    });
    assert.equal((await getJson(`${node.http}/admin/api/connections/${cat.id}`)).status, 404);
    assert.equal((await getJson(`${node.http}/admin/api/connections/${cat.id}/close`, { method: 'POST' })).status, 404);

    // Bad input.
    for (const q of ['limit=0', 'limit=501', 'limit=x', 'user=a%20b', 'node=a%2Fb', 'cursor=%2F', 'cursor=nonsense'])
      assert.equal((await getJson(`${node.http}/admin/api/connections?${q}`)).status, 400, q);
    assert.equal((await getJson(`${node.http}/admin/api/connections/n1:0`)).status, 404);
    assert.equal((await getJson(`${node.http}/admin/api/connections/n1:99999999`)).status, 404);
    assert.equal((await getJson(`${node.http}/admin/api/connections/nocolon`)).status, 400);
    assert.equal((await getJson(`${node.http}/admin/api/connections/${ben.id}/close`)).status, 405);
    assert.equal((await getJson(`${node.http}/admin/api/connections/${ben.id}`, { method: 'POST' })).status, 405);
    assert.equal((await getJson(`${node.http}/admin/api/connections`, { method: 'POST' })).status, 405);
    assert.equal((await getJson(`${node.http}/admin/api/connections/no%20id`, { method: 'DELETE' })).status, 405);
  } finally {
    sse?.close();
    for (const c of clients) c.close();
    await node.stop();
  }
});

test('presence through the admin API: online with one device per connection and their heartbeats, then offline with last_seen', async () => {
  const node = await startNode();
  try {
    const a = await Client.connect(node.ws('pat'));
    const b = await Client.connect(node.ws('pat'));
    await a.request({ type: 'ping' });
    await b.request({ type: 'ping' });
    const p = await until('two devices', async () => {
      const r = await getJson(`${node.http}/admin/api/users/pat/presence`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.devices.length === 2 && r.body;
    });
    assert.equal(p.user, 'pat');
    assert.equal(p.status, 'online');
    const conns = (await getJson(`${node.http}/admin/api/connections?user=pat`)).body.connections;
    assert.deepEqual(p.devices.map((d) => d.connection).sort(), conns.map((c) => c.id).sort());
    for (const d of p.devices) {
      assert.equal(d.node, 'n1');
      assert.ok(d.last_heartbeat > 0);
    }
    const closedAt = Date.now();
    a.close();
    b.close();
    const off = await until('offline', async () => {
      const r = await getJson(`${node.http}/admin/api/users/pat/presence`);
      return r.body.status === 'offline' && r.body;
    });
    assert.deepEqual(off.devices, []);
    assert.ok(off.last_seen >= closedAt - 5000, 'last_seen is when it was last seen');
    // A user never seen is unknown: 404, as PROTOCOL.md says of unknown users.
    const never = await getJson(`${node.http}/admin/api/users/nobody-ever/presence`);
    assert.equal(never.status, 404);
    assert.equal(never.body.code, 'not_found');
    assert.equal((await getJson(`${node.http}/admin/api/users/a%20b/presence`)).status, 400);
    assert.equal((await getJson(`${node.http}/admin/api/users/pat`)).status, 404);
  } finally {
    await node.stop();
  }
});

test('connections need the admin scope: 401 without a token, 403 without admin', async () => {
  const SECRET = 'an-admin-test-secret-long-enough-0123456789';
  const node = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
  try {
    const tok = (claims) => sign({ exp: inOneHour(), ...claims }, { secret: SECRET });
    for (const path of ['/admin/api/connections', '/admin/api/connections/n1:5', '/admin/api/users/x/presence']) {
      assert.equal((await getJson(`${node.http}${path}`)).status, 401, path);
      const user = await getJson(`${node.http}${path}`, { headers: { Authorization: `Bearer ${tok({ sub: 'alice' })}` } });
      assert.equal(user.status, 403, path);
    }
    const admin = { headers: { Authorization: `Bearer ${tok({ sub: 'ops', scope: 'admin' })}` } };
    assert.equal((await getJson(`${node.http}/admin/api/connections`, admin)).status, 200);
    const kick = await getJson(`${node.http}/admin/api/connections/n1:5/close`, { method: 'POST' });
    assert.equal(kick.status, 401);
  } finally {
    await node.stop();
  }
});

test('three nodes: any node lists the connections of all three in one order, inspects and closes one on another node, and finds a user\'s devices on every node', async () => {
  const cluster = await startCluster();
  const clients = [];
  try {
    for (let k = 1; k <= 3; ++k)
      for (const u of [`u${k}a`, `u${k}b`, 'roamer']) {
        const c = await Client.connect(cluster.ws(k, u));
        await c.join('cl-conns');
        await c.request({ type: 'ping' });
        clients.push(c);
      }
    let first;
    for (let k = 1; k <= 3; ++k) {
      const listed = (await allPages(cluster.http(k), 'limit=4')).flatMap((p) => p.connections);
      assert.equal(listed.length, 9, `asked on n${k}`);
      assert.deepEqual(listed.map((c) => c.node), ['n1', 'n1', 'n1', 'n2', 'n2', 'n2', 'n3', 'n3', 'n3']);
      assert.ok(listed.every((c) => c.rooms.length === 1 && c.rooms[0] === 'cl-conns'));
      if (first) assert.deepEqual(listed.map((c) => c.id), first.map((c) => c.id), 'the same list from every node');
      first = listed;
    }
    const onN2 = (await getJson(`${cluster.http(1)}/admin/api/connections?node=n2`)).body.connections;
    assert.deepEqual(onN2.map((c) => c.user), ['u2a', 'u2b', 'roamer']);
    const roamers = (await getJson(`${cluster.http(3)}/admin/api/connections?user=roamer`)).body.connections;
    assert.deepEqual(roamers.map((c) => c.node), ['n1', 'n2', 'n3']);

    // The presence of a user connected to all three nodes, asked of each.
    for (let k = 1; k <= 3; ++k) {
      const p = await until(`three devices seen from n${k}`, async () => {
        const r = await getJson(`${cluster.http(k)}/admin/api/users/roamer/presence`);
        return r.body.devices?.length === 3 && r.body;
      });
      assert.equal(p.status, 'online');
      assert.deepEqual(p.devices.map((d) => d.connection).sort(), roamers.map((c) => c.id).sort());
      assert.deepEqual(p.devices.map((d) => d.node).sort(), ['n1', 'n2', 'n3']);
    }

    // One connection on n3, inspected and closed through n1.
    const target = first.find((c) => c.user === 'u3b');
    const one = await getJson(`${cluster.http(1)}/admin/api/connections/${target.id}`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.node, 'n3');
    assert.deepEqual(one.body.rooms, ['cl-conns']);
    const close = await getJson(`${cluster.http(1)}/admin/api/connections/${target.id}/close`, { method: 'POST' });
    assert.deepEqual(close.body, { type: 'ok' });
    const victim = clients[7];
    assert.deepEqual(await victim.closedWith(), { code: 4000, reason: 'closed by admin' });
    await until('gone from the list', async () => {
      const r = await getJson(`${cluster.http(2)}/admin/api/connections?node=n3`);
      return r.body.connections.length === 2;
    });
    assert.equal((await getJson(`${cluster.http(2)}/admin/api/connections/${target.id}`)).status, 404);
    assert.equal((await getJson(`${cluster.http(2)}/admin/api/connections/n9:5`)).status, 404);
  } finally {
    for (const c of clients) c.close();
    await cluster.stop();
  }
});

test('three nodes: a node that does not answer is named in `partial`, its connections left out of that page only', async () => {
  const cluster = await startCluster();
  const clients = [];
  try {
    for (let k = 1; k <= 3; ++k) clients.push(await Client.connect(cluster.ws(k, `p${k}`)));
    const all = (await adminPages(cluster.http(1), 'connections', 'limit=10')).flatMap((p) => p.connections);
    assert.deepEqual(all.map((c) => c.node), ['n1', 'n2', 'n3']);
    process.kill(cluster.pids.n2, 'SIGSTOP');
    try {
      const r = await getJson(`${cluster.http(1)}/admin/api/connections`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.connections.map((c) => c.node), ['n1', 'n3']);
      assert.deepEqual(r.body.partial, ['n2']);
      assert.equal(r.body.next, null);
    } finally {
      process.kill(cluster.pids.n2, 'SIGCONT');
    }
    // Resumed (and, had it been declared down meanwhile, back in the view).
    const again = await until('n2 answers again', async () => {
      const r = await getJson(`${cluster.http(1)}/admin/api/connections`);
      return r.body.partial === undefined && r.body.connections.length === 3 && r.body;
    }, 200);
    assert.deepEqual(again.connections.map((c) => c.node), ['n1', 'n2', 'n3']);
  } finally {
    for (const c of clients) c.close();
    await cluster.stop();
  }
});
