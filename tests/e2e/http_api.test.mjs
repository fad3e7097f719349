// Server-side publish (POST /api/rooms/{room}/messages) and CORS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, Client, getJson } from './lib.mjs';
import { sign, inOneHour } from './jwt.mjs';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const post = (url, body, headers = {}) =>
  getJson(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('publish in dev mode: acked, delivered once, idempotent on id', async () => {
  const node = await startNode();
  try {
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('news');
    const url = `${node.http}/api/rooms/news/messages`;
    const first = await post(url, { id: 'srv-1', body: { text: 'hello from the server' } });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { type: 'ack', id: 'srv-1', room: 'news', seq: 1, dup: false });
    const m = await alice.next('message');
    assert.equal(m.from, 'server');
    assert.deepEqual(m.body, { text: 'hello from the server' });
    const again = await post(url, { id: 'srv-1', body: 'ignored' });
    assert.equal(again.body.dup, true);
    assert.equal(again.body.seq, 1);
    assert.ok(await alice.quiet('message', 300));
    const cases = [
      [{ body: 1 }, 400],
      [{ id: '', body: 1 }, 400],
      [{ id: 'x' }, 400],
      ['[1]', 400],
      ['not json', 400],
      [{ id: 'big', body: 'x'.repeat(70 * 1024) }, 413],
    ];
    for (const [body, status] of cases) {
      const r = await post(url, body);
      assert.equal(r.status, status, JSON.stringify(body).slice(0, 40));
      assert.equal(r.body.type, 'error');
    }
    const wrongType = await getJson(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    assert.equal(wrongType.status, 415);
    assert.equal((await post(`${node.http}/api/rooms/bad%20room/messages`, { id: 'a', body: 1 })).status, 400);
    assert.equal((await getJson(url, { method: 'DELETE' })).status, 405);
    alice.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('publish with tokens needs the publish or admin scope', async () => {
  const node = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
  try {
    const url = `${node.http}/api/rooms/ops/messages`;
    const bearer = (claims) => ({ Authorization: `Bearer ${sign({ exp: inOneHour(), ...claims }, { secret: SECRET })}` });
    assert.equal((await post(url, { id: 'a', body: 1 })).status, 401);
    const noScope = await post(url, { id: 'a', body: 1 }, bearer({ sub: 'svc' }));
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.code, 'forbidden');
    const ok = await post(url, { id: 'b', body: 1 }, bearer({ sub: 'svc', scope: ['publish'] }));
    assert.equal(ok.status, 200);
    const admin = await post(url, { id: 'c', body: 1 }, bearer({ sub: 'root', scope: 'admin' }));
    assert.equal(admin.body.seq, 2);
    const hist = await getJson(`${url}?after=0`, { headers: bearer({ sub: 'reader' }) });
    assert.deepEqual(hist.body.messages.map((m) => m.from), ['svc', 'root']);
    const privateRoom = await post(`${node.http}/api/rooms/private:x/messages`, { id: 'd', body: 1 }, bearer({ sub: 'svc', scope: ['publish'] }));
    assert.equal(privateRoom.status, 403);
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('CORS: allowed origins get the headers and a preflight answer; others do not', async () => {
  const node = await startNode({ args: ['--allowed-origins', 'http://app.example'] });
  try {
    const url = `${node.http}/api/rooms/cors/messages`;
    const pre = await fetch(url, { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
    const denied = await fetch(url, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    assert.equal(denied.status, 403);
    const get = await fetch(url, { headers: { Origin: 'http://app.example' } });
    assert.equal(get.headers.get('access-control-allow-origin'), 'http://app.example');
    const other = await fetch(url, { headers: { Origin: 'http://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  } finally {
    await node.stop();
    node.cleanup();
  }
});
