// Every bad input of the protocol subset gets its error, and the connection
// stays usable unless the contract says it closes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startNode, Client, getJson } from './lib.mjs';

let node;
before(async () => {
  node = await startNode();
});
after(async () => {
  await node.stop();
  node.cleanup();
});

async function stillUsable(c) {
  assert.equal((await c.request({ type: 'ping' })).type, 'pong');
}

test('each bad frame gets bad_request and the connection stays open', async () => {
  const c = await Client.connect(node.ws('alice'));
  await c.join('ok-room');
  const cases = [
    'not json',
    '{"type":"join"',
    '[1,2,3]',
    '"a string"',
    '17',
    'null',
    '{}',
    '{"type":"fly"}',
    '{"type":5}',
    '{"type":"join"}',
    '{"type":"join","room":7}',
    '{"type":"join","room":"bad room"}',
    '{"type":"join","room":""}',
    `{"type":"join","room":"${'r'.repeat(129)}"}`,
    '{"type":"join","room":"r","since":-1}',
    '{"type":"join","room":"r","since":"5"}',
    '{"type":"send","room":"ok-room","body":1}',
    '{"type":"send","room":"ok-room","id":"","body":1}',
    `{"type":"send","room":"ok-room","id":"${'i'.repeat(65)}","body":1}`,
    '{"type":"send","room":"ok-room","id":"x"}',
    '{"type":"history","room":"ok-room","limit":500}',
    '{"type":"history","room":"ok-room","before":3,"after":1}',
    '{"type":"ping","ref":{"nested":true}}',
    `{"type":"ping","ref":"${'r'.repeat(65)}"}`,
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  ];
  for (const frame of cases) {
    c.send(frame);
    const err = await c.next('error');
    assert.equal(err.code, 'bad_request', frame);
    assert.ok(err.message.length > 0);
    await stillUsable(c); // also resets the bad-frame streak
  }
  c.close();
});

test('the error echoes the ref when the frame had a readable one', async () => {
  const c = await Client.connect(node.ws('alice'));
  c.send({ type: 'join', ref: 'my-ref' });
  const err = await c.next('error');
  assert.equal(err.ref, 'my-ref');
  c.send({ type: 'join', ref: 99 });
  assert.equal((await c.next('error')).ref, 99);
  c.close();
});

test('not_joined for send and typing to a room not joined', async () => {
  const c = await Client.connect(node.ws('alice'));
  for (const frame of [
    { type: 'send', room: 'elsewhere', id: 'a', body: 1 },
    { type: 'typing', room: 'elsewhere' },
  ]) {
    const err = await c.request(frame);
    assert.equal(err.code, 'not_joined');
  }
  await stillUsable(c);
  c.close();
});

test('a body over 64 KiB is too_large and the connection stays open', async () => {
  const c = await Client.connect(node.ws('alice'));
  await c.join('big');
  const err = await c.request({ type: 'send', room: 'big', id: 'big1', body: 'x'.repeat(70 * 1024) });
  assert.equal(err.code, 'too_large');
  await stillUsable(c);
  const ok = await c.request({ type: 'send', room: 'big', id: 'big2', body: 'x'.repeat(60 * 1024) });
  assert.equal(ok.type, 'ack');
  c.close();
});

test('a frame over 128 KiB closes with 1009', async () => {
  const c = await Client.connect(node.ws('alice'));
  c.send(JSON.stringify({ type: 'send', room: 'r', id: 'x', body: 'x'.repeat(130 * 1024) }));
  assert.equal((await c.closedWith()).code, 1009);
});

test('10 bad frames in a row close with 1008; a good one resets the streak', async () => {
  const c = await Client.connect(node.ws('alice'));
  for (let i = 0; i < 9; i++) c.send('bad');
  await c.take(9, 'error');
  await stillUsable(c);
  for (let i = 0; i < 9; i++) c.send('bad');
  await c.take(9, 'error');
  assert.equal(c.closed, null);
  c.send('bad');
  const err = await c.next('error'); // the tenth still gets its error first
  assert.equal(err.code, 'bad_request');
  assert.equal((await c.closedWith()).code, 1008);
});

test('binary frames are bad_request; invalid UTF-8 closes with 1007', async () => {
  const c = await Client.connect(node.ws('alice'));
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await c.next('error')).code, 'bad_request');
  await stillUsable(c);
  c.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
  assert.equal((await c.closedWith()).code, 1007);
});

test('auth after the connection is authenticated is bad_request', async () => {
  const c = await Client.connect(node.ws('alice'));
  const err = await c.request({ type: 'auth', token: 'x' });
  assert.equal(err.code, 'bad_request');
  assert.match(err.message, /already authenticated/);
  await stillUsable(c);
  c.close();
});

test('handshake errors are HTTP errors with a JSON body', async () => {
  await assert.rejects(Client.connect(`ws://127.0.0.1:${node.port}/ws`), (e) => e.status === 401 && JSON.parse(e.body).code === 'unauthorized');
  await assert.rejects(Client.connect(`ws://127.0.0.1:${node.port}/ws?user=bad%20name`), (e) => e.status === 400);
  await assert.rejects(Client.connect(`ws://127.0.0.1:${node.port}/ws?user=${'u'.repeat(65)}`), (e) => e.status === 400);
  const plain = await getJson(`${node.http}/ws?user=alice`);
  assert.equal(plain.status, 426);
  assert.equal(plain.body.code, 'bad_request');
});

test('REST bad input: each a 4xx with a JSON error body', async () => {
  const cases = [
    ['/api/rooms/bad%20room/messages', 400],
    ['/api/rooms/r/messages?limit=0', 400],
    ['/api/rooms/r/messages?limit=201', 400],
    ['/api/rooms/r/messages?limit=abc', 400],
    ['/api/rooms/r/messages?before=-1', 400],
    ['/api/rooms/r/messages?before=0', 400],
    ['/api/rooms/r/messages?before=5&after=1', 400],
    ['/api/rooms/r/messages?after=99999999999999999999999', 400],
    ['/api/rooms/r/messages?x=%zz', 400],
    ['/api/rooms/r/nothing', 404],
    ['/nope', 404],
  ];
  for (const [path, status] of cases) {
    const r = await getJson(`${node.http}${path}`);
    assert.equal(r.status, status, path);
    assert.equal(r.body.type, 'error', path);
    assert.ok(r.body.message, path);
  }
  const post = await getJson(`${node.http}/api/rooms/r/messages`, { method: 'PUT', body: '{}' });
  assert.equal(post.status, 405);
  const textPost = await getJson(`${node.http}/api/rooms/r/messages`, { method: 'POST', body: '{}' });
  assert.equal(textPost.status, 415, 'publishing needs application/json');
  const del = await getJson(`${node.http}/healthz`, { method: 'DELETE' });
  assert.equal(del.status, 405);
});

test('a malformed HTTP request gets 400 and the node keeps serving', async () => {
  const reply = await new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1', () => s.write('NONSENSE\r\n\r\n'));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.equal((await getJson(`${node.http}/healthz`)).status, 200);
});
