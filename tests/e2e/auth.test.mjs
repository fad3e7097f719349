// Authentication and authorization with real tokens (signed here with
// node:crypto) against chatd nodes that verify HS256 or RS256.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startNode, runChatd, tempDir, Client, getJson } from './lib.mjs';
import { sign, inOneHour, rsaKeys } from './jwt.mjs';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
let hs;
before(async () => {
  hs = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
});
after(async () => {
  await hs.stop();
  hs.cleanup();
});

const url = (node, query = '') => `ws://127.0.0.1:${node.port}/ws${query}`;
const token = (claims, opts = {}) => sign({ exp: inOneHour(), ...claims }, { secret: SECRET, ...opts });

async function rejected(promise, status = 401) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status);
    const body = JSON.parse(e.body);
    assert.equal(body.code, status === 401 ? 'unauthorized' : body.code);
    return true;
  });
}

test('a valid token in the Authorization header, in ?token=, or in a first auth frame', async () => {
  const t = token({ sub: 'alice' });
  const a = await Client.connect(url(hs), { headers: { Authorization: `Bearer ${t}` } });
  assert.deepEqual((await a.join('lobby')).members, ['alice']);
  const b = await Client.connect(url(hs, `?token=${t}`));
  await b.join('lobby');
  const c = await Client.connect(url(hs));
  assert.equal((await c.request({ type: 'auth', token: token({ sub: 'carol' }) })).type, 'ok');
  const joined = await c.join('lobby');
  assert.deepEqual([...joined.members].sort(), ['alice', 'carol']);
  const ack = await c.request({ type: 'send', room: 'lobby', id: 'm1', body: 'hi' });
  assert.equal(ack.type, 'ack');
  assert.equal((await a.next('message')).from, 'carol');
  for (const x of [a, b, c]) x.close();
});

test('bad tokens at the handshake: HTTP 401 with a JSON body', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases = {
    malformed: 'not-a-token',
    'two segments': 'abc.def',
    'bad signature': sign({ sub: 'x', exp: inOneHour() }, { secret: 'another-secret-that-is-long-enough-000' }),
    expired: token({ sub: 'x', exp: now - 10 }),
    'alg none': sign({ sub: 'x', exp: inOneHour() }, { alg: 'none' }),
    'wrong algorithm (HS512)': token({ sub: 'x' }, { alg: 'HS512' }),
    'wrong algorithm (RS256)': sign({ sub: 'x', exp: inOneHour() }, { alg: 'RS256', privateKey: rsaKeys().privateKey }),
    'no exp': sign({ sub: 'x' }, { secret: SECRET }),
    'no sub': token({}),
    'bad sub': token({ sub: 'not a name' }),
    'not valid yet (nbf in an hour)': token({ sub: 'x', nbf: inOneHour() }),
    'nbf not a number': token({ sub: 'x', nbf: 'now' }),
    'scope of the wrong type': token({ sub: 'x', scope: { admin: true } }),
    'scope list with a number': token({ sub: 'x', scope: ['publish', 7] }),
    'rooms of the wrong type': token({ sub: 'x', rooms: 'lobby' }),
    'rooms list with an object': token({ sub: 'x', rooms: ['lobby', {}] }),
  };
  for (const [name, t] of Object.entries(cases)) {
    await rejected(Client.connect(url(hs, `?token=${encodeURIComponent(t)}`)), 401).catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
    await rejected(Client.connect(url(hs), { headers: { Authorization: `Bearer ${t}` } }), 401).catch((e) => {
      throw new Error(`${name} (header): ${e.message}`);
    });
  }
  // A token valid since a minute ago is fine.
  const since = await Client.connect(url(hs, `?token=${token({ sub: 'x', nbf: now - 60 })}`));
  since.close();
  await rejected(Client.connect(url(hs), { headers: { Authorization: 'Basic abc' } }), 401);
  await rejected(Client.connect(url(hs, '?user=alice')), 401); // not a dev node
  assert.ok(!hs.log().includes(cases['bad signature']), 'tokens never reach the log');
});

test('bad or missing auth frame: close 4001', async () => {
  const c1 = await Client.connect(url(hs));
  c1.send({ type: 'join', room: 'lobby' });
  assert.equal((await c1.closedWith()).code, 4001);
  const c2 = await Client.connect(url(hs));
  c2.send({ type: 'auth', token: token({ sub: 'x', exp: 5 }) });
  const closed = await c2.closedWith();
  assert.equal(closed.code, 4001);
  assert.match(closed.reason, /expired/);
  const c3 = await Client.connect(url(hs));
  c3.send('not json');
  assert.equal((await c3.closedWith()).code, 4001);
  const c4 = await Client.connect(url(hs));
  const started = Date.now();
  assert.equal((await c4.closedWith(8000)).code, 4001);
  assert.ok(Date.now() - started >= 4500, 'the auth frame may come within 5 s');
});

test('rooms claim and private rooms: forbidden outside the claim', async () => {
  const scoped = token({ sub: 'dana', rooms: ['team-*', 'lobby', 'private:ops'] });
  const c = await Client.connect(url(hs, `?token=${scoped}`));
  await c.join('team-red');
  await c.join('lobby');
  await c.join('private:ops');
  for (const room of ['random', 'private:other', 'team']) {
    const err = await c.request({ type: 'join', room });
    assert.equal(err.code, 'forbidden', room);
    assert.equal((await c.request({ type: 'history', room })).code, 'forbidden');
  }
  const plain = await Client.connect(url(hs, `?token=${token({ sub: 'erin' })}`));
  await plain.join('anything-public');
  assert.equal((await plain.request({ type: 'join', room: 'private:ops' })).code, 'forbidden');
  c.close();
  plain.close();
});

test('REST needs a token, and honours the rooms claim', async () => {
  assert.equal((await getJson(`${hs.http}/api/rooms/lobby/messages`)).status, 401);
  const auth = (t) => ({ headers: { Authorization: `Bearer ${t}` } });
  const ok = await getJson(`${hs.http}/api/rooms/lobby/messages`, auth(token({ sub: 'x' })));
  assert.equal(ok.status, 200);
  const forbidden = await getJson(`${hs.http}/api/rooms/private:x/messages`, auth(token({ sub: 'x' })));
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.code, 'forbidden');
  const bad = await getJson(`${hs.http}/api/rooms/lobby/presence`, auth('garbage'));
  assert.equal(bad.status, 401);
});

test('without credentials every endpoint answers 401 before any other check (issue 15)', async () => {
  const base = `http://127.0.0.1:${hs.port}`;
  const bad = token({ sub: 'mallory' }, { secret: 'another-secret-that-is-long-enough-0123456789' });
  // Each request is wrong in another way as well; the 401 must come first.
  const cases = [
    ['POST', '/rpc', {}, ''],                                              // no ?session=, no JSON
    ['GET', '/rpc?session=x', { 'Content-Type': 'application/json' }, undefined], // wrong method
    ['GET', '/sse?rooms=bad%20room', {}, undefined],                      // bad room
    ['POST', '/sse?rooms=lobby', {}, ''],                                  // wrong method
    ['GET', '/poll?timeout=99999', {}, undefined],                        // bad timeout
    ['GET', '/poll?cursor=garbage', {}, undefined],                       // bad cursor
    ['GET', '/api/rooms/bad!room/messages', {}, undefined],               // bad room
    ['GET', '/api/rooms/lobby/messages?limit=x', {}, undefined],          // bad limit
    ['POST', '/api/rooms/lobby/messages', { 'Content-Type': 'text/plain' }, 'x'], // media type
    ['PUT', '/api/rooms/lobby/messages', {}, ''],                          // wrong method
    ['GET', '/api/rooms/bad!room/presence', {}, undefined],               // bad room
    ['GET', '/ws?user=mallory', {}, undefined],                           // ?user= outside --dev
  ];
  for (const [method, path, headers, body] of cases) {
    for (const auth of [{}, { Authorization: `Bearer ${bad}` }]) {
      const res = await fetch(base + path, { method, headers: { ...headers, ...auth }, body });
      assert.equal(res.status, 401, `${method} ${path} ${auth.Authorization ? 'with a bad token' : 'without a token'}`);
      assert.equal((await res.json()).code, 'unauthorized');
    }
  }
  // With a valid token the other checks speak.
  const good = { Authorization: `Bearer ${token({ sub: 'alice' })}` };
  assert.equal((await fetch(`${base}/rpc`, { method: 'POST', headers: good })).status, 415);
  assert.equal((await fetch(`${base}/poll?timeout=99999`, { headers: good })).status, 400);
  assert.equal((await fetch(`${base}/api/rooms/bad!room/messages`, { headers: good })).status, 400);
  // A WebSocket without credentials may still authenticate with its first frame:
  // a plain GET of /ws without them is told to upgrade.
  assert.equal((await fetch(`${base}/ws`)).status, 426);
});

test('RS256: a public key verifies; an HS256 token keyed with that public key does not', async () => {
  const dir = tempDir();
  const keys = rsaKeys();
  const pem = join(dir, 'pub.pem');
  writeFileSync(pem, keys.publicKey);
  const rs = await startNode({ dev: false, args: ['--jwt-public-key', pem] });
  try {
    const good = sign({ sub: 'rsa-user', exp: inOneHour() }, { alg: 'RS256', privateKey: keys.privateKey });
    const c = await Client.connect(url(rs, `?token=${good}`));
    await c.join('lobby');
    c.close();
    const confused = sign({ sub: 'mallory', exp: inOneHour() }, { alg: 'HS256', secret: keys.publicKey });
    await rejected(Client.connect(url(rs, `?token=${confused}`)));
  } finally {
    await rs.stop();
    rs.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dev mode with a secret accepts both ?user= and tokens', async () => {
  const node = await startNode({ args: ['--jwt-secret', SECRET] });
  try {
    assert.match(node.log(), /DEV MODE/);
    const a = await Client.connect(node.ws('devuser'));
    const b = await Client.connect(url(node, `?token=${sign({ sub: 'tok' }, { secret: SECRET })}`));
    await a.join('r');
    await b.join('r'); // no exp needed in dev mode
    a.close();
    b.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('bad auth configuration: one line, exit 2', async () => {
  const dir = tempDir();
  try {
    const short = await runChatd(['--jwt-secret', 'short', '--http', '127.0.0.1:0', '--data', dir]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 32 bytes/);
    const missing = await runChatd(['--jwt-public-key', join(dir, 'nope.pem'), '--http', '127.0.0.1:0', '--data', dir]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read/);
    writeFileSync(join(dir, 'junk.pem'), 'junk');
    const junk = await runChatd(['--jwt-public-key', join(dir, 'junk.pem'), '--http', '127.0.0.1:0', '--data', dir]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /PEM/);
    for (const r of [short, missing, junk]) assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--allowed-origins: browsers from other origins get 403; non-browsers pass', async () => {
  const node = await startNode({ args: ['--allowed-origins', 'https://chat.example,http://127.0.0.1:9'] });
  try {
    const good = await Client.connect(node.ws('o1'), { headers: { Origin: 'https://chat.example' } });
    good.close();
    const none = await Client.connect(node.ws('o2')); // no Origin header
    none.close();
    await assert.rejects(Client.connect(node.ws('o3'), { headers: { Origin: 'https://evil.example' } }), (e) => {
      assert.equal(e.status, 403);
      assert.equal(JSON.parse(e.body).code, 'forbidden');
      return true;
    });
  } finally {
    await node.stop();
    node.cleanup();
  }
});
