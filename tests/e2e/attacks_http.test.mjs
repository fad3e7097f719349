// Hostile HTTP load against a real node, each attack as it was first reported,
// with the figures printed: the node answers it, stays up, and keeps serving a
// well-behaved client. (docs/security.md lists each limit.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startNode, withNode, Client, cpuSeconds, rssMiB, healthzMs, rawHttp, getJson } from './lib.mjs';

let node;
before(async () => {
  node = await startNode({ args: ['--request-timeout-ms', '3000', '--rate-limit', 'off'] });
});
after(async () => {
  await node.stop();
  node.cleanup();
});

async function stillServes(n = node) {
  const c = await Client.connect(n.ws(`bystander${Math.random().toString(36).slice(2)}`));
  await c.join('calm');
  const ack = await c.request({ type: 'send', room: 'calm', id: `c${Math.random()}`, body: 1 });
  assert.equal(ack.type, 'ack');
  c.close();
}

const chunkedGet = (trailer) =>
  `GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${trailer}\r\n`;

test('a 64 KiB trailer field is answered 431, the node lives (it used to abort)', async () => {
  for (const size of [65535, 70000, 40000]) {
    const reply = await rawHttp(node.port, chunkedGet(`X: ${'a'.repeat(size)}\r\n`));
    assert.match(reply, /^HTTP\/1\.1 431 /, `trailer field of ${size} bytes`);
    assert.match(reply, /trailer larger than 16 KiB/);
  }
  // A small trailer is refused too: nothing here needs one.
  const small = await rawHttp(node.port, chunkedGet('X: y\r\n'));
  assert.match(small, /^HTTP\/1\.1 400 /);
  assert.match(small, /trailer fields are not accepted/);
  // Without a trailer a chunked request is fine.
  assert.match(await rawHttp(node.port, chunkedGet('')), /^HTTP\/1\.1 200 /);
  assert.equal(node.proc.exitCode, null, 'the node is alive');
  console.log(`# crash request: answered 431, node alive, /healthz in ${(await healthzMs(node.http)).toFixed(1)} ms`);
  await stillServes();
});

test('trailers cannot grow memory: 400 MB of trailer fields are cut after 16 KiB', async () => {
  const rss0 = rssMiB(node.proc.pid);
  const started = Date.now();
  const { sent, reply } = await new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1');
    let sent = 0;
    let reply = '';
    const field = `X-T: ${'b'.repeat(1000)}\r\n`.repeat(64); // 64 KB per write
    const pump = () => {
      while (sent < 400e6 && !s.destroyed && s.write(field)) sent += field.length;
    };
    s.on('connect', () => {
      s.write('POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n');
      pump();
    });
    s.on('drain', pump);
    s.on('data', (d) => (reply += d));
    s.on('close', () => resolve({ sent, reply }));
    s.on('error', () => {});
    setTimeout(() => s.destroy(), 15000);
  });
  const rss1 = rssMiB(node.proc.pid);
  console.log(`# trailers: ${(sent / 1e6).toFixed(1)} MB written before the node closed the connection ` +
              `in ${Date.now() - started} ms; RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MiB`);
  // The 431 is sent; whether the client reads it before the reset that ends a
  // flood it keeps writing depends on timing (the first test sees it every time).
  assert.ok(reply === '' || /^HTTP\/1\.1 431 /.test(reply), reply.slice(0, 80));
  assert.ok(sent < 50e6, `the node read ${sent} bytes of trailers`);
  assert.ok(rss1 - rss0 < 50, `RSS grew by ${rss1 - rss0} MiB`);
  await stillServes();
});

test('ambiguous framing and headers: xchunked, TE with Content-Length, two Hosts', async () => {
  const cases = {
    'Transfer-Encoding xchunked with a Content-Length':
      'POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}',
    'Transfer-Encoding xchunked alone': 'POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n',
    'chunked with a Content-Length':
      'POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
    'two Host headers': 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    'a chunk line over 16 KiB': `POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(20000)}\r\n`,
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const reply = await rawHttp(node.port, bytes);
    assert.match(reply, /^HTTP\/1\.1 4(00|31) /, name);
    assert.match(reply, /"code":"bad_request"/, name);
  }
  await stillServes();
});

test('Expect: 100-continue is answered at once; another expectation gets 417', async () => {
  const started = Date.now();
  const got = await new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1', () =>
      s.write('POST /rpc?user=e HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
              'Content-Length: 15\r\nExpect: 100-continue\r\n\r\n'));
    let data = '';
    let sentBody = false;
    s.on('data', (d) => {
      data += d;
      if (!sentBody && data.includes('100 Continue\r\n\r\n')) {
        sentBody = true;
        s.write('{"type":"ping"}');
      }
      if (data.includes('"type":"error"')) s.end(); // the final reply
    });
    s.on('close', () => resolve(data));
    s.on('error', () => {});
    setTimeout(() => s.destroy(), 5000);
  });
  const ms = Date.now() - started;
  console.log(`# Expect: 100-continue answered, whole exchange in ${ms} ms`);
  assert.match(got, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 /); // no ?session=: the body was read and judged
  assert.ok(ms < 3000);
  const odd = await rawHttp(node.port, 'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: teapot\r\n\r\n{}');
  assert.match(odd, /^HTTP\/1\.1 417 /);
});

test('pipelined requests on one connection are charged like new connections (429)', async () => {
  const n = 400;
  const reply = await rawHttp(node.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n),
    { timeoutMs: 5000, localAddress: '127.0.0.3' }); // its own connection bucket
  const ok = (reply.match(/HTTP\/1\.1 200 /g) ?? []).length;
  const limited = (reply.match(/HTTP\/1\.1 429 /g) ?? []).length;
  console.log(`# ${n} pipelined requests on one connection: ${ok} answered, then ${limited} x 429 and the connection closed`);
  assert.ok(ok >= 150 && ok <= 260, `${ok} answered`); // the connect bucket: burst 200 (+ refill)
  assert.equal(limited, 1);
  assert.match(reply, /Retry-After: \d+/);
});

test('a stream flood from one connection and from one user is capped; others still connect', async () => {
  // Poll streams pipelined on one kept-alive connection (from a second
  // address, so the first test's bucket is not involved): every request pays.
  const flood = await rawHttp(node.port, 'GET /poll?user=flooder&rooms=r&timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000),
    { timeoutMs: 8000, localAddress: '127.0.0.2' });
  const opened = (flood.match(/HTTP\/1\.1 200 /g) ?? []).length;
  const capped = (flood.match(/streams open on this node already/g) ?? []).length;
  console.log(`# 2000 pipelined GET /poll from one connection: ${opened} streams opened, then ${capped} x 429 ` +
              '(the user\'s cap) until the address\'s bucket closed the connection');
  assert.equal(opened, 32, 'the per-user cap (--max-streams-per-user 32)');
  assert.ok(capped >= 1);
  // The same user from other connections: still capped, told when to retry.
  const more = await getJson(`${node.http}/sse?user=flooder&rooms=r`, { signal: AbortSignal.timeout(3000) });
  assert.equal(more.status, 429);
  assert.equal(more.body.code, 'rate_limited');
  assert.equal(more.headers.get('retry-after'), '15');
  // Another user is unaffected.
  const other = await getJson(`${node.http}/poll?user=someone-else&rooms=r&timeout=0`);
  assert.equal(other.status, 200);
  await stillServes();
  const metrics = await (await fetch(`${node.http}/metrics`)).text();
  const open = [...metrics.matchAll(/^chat_connections\{transport="\w+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  console.log(`# open connections after the flood: ${open}`);
});

test('streams per address are capped (--max-streams-per-ip)', async () => {
  await withNode({ args: ['--max-streams-per-ip', '5', '--rate-limit', 'off'] }, async (n) => {
    const statuses = [];
    for (let i = 0; i < 7; ++i)
      statuses.push((await getJson(`${n.http}/poll?user=u${i}&rooms=r&timeout=0`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    await stillServes(n);
  });
});

test('out of descriptors: 503s first, no busy loop, no log flood, serving again after', async () => {
  // 256 descriptors: 64 are kept in reserve, 192 sockets at most.
  await withNode({ nofile: 256, args: ['--request-timeout-ms', '2000', '--connect-rate-limit', 'off'] }, async (n) => {
    const cpu0 = cpuSeconds(n.proc.pid);
    const sockets = [];
    const replies = [];
    for (let i = 0; i < 400; ++i) {
      const s = net.connect({ port: n.port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 50)}` });
      s.on('error', () => {});
      let data = '';
      s.on('data', (d) => (data += d));
      replies.push(new Promise((resolve) => s.on('close', () => resolve(data))));
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const during = await healthzMs(n.http, 5000);
    const cpu1 = cpuSeconds(n.proc.pid);
    const done = await Promise.all(replies); // the idle ones are cut at the request timeout
    const refused = done.filter((d) => d.startsWith('HTTP/1.1 503')).length;
    const after = await healthzMs(n.http, 5000);
    const lines = n.log().split('\n');
    const accepts = lines.filter((l) => l.includes('accept failed')).length;
    const refusals = lines.filter((l) => l.includes('refusing connections')).length;
    console.log(`# 400 idle sockets against 256 descriptors: ${refused} got 503 at once, ` +
                `CPU ${(cpu1 - cpu0).toFixed(2)} s in the first second, /healthz ${during.toFixed(0)} ms while full ` +
                `(a 503 then) and ${after.toFixed(0)} ms after; log: ${accepts} 'accept failed', ${refusals} 'refusing' lines`);
    assert.ok(refused >= 150, `${refused} refused with 503`);
    assert.ok(cpu1 - cpu0 < 1, 'no busy loop');
    assert.ok(accepts + refusals <= 4, 'no log flood');
    assert.ok(after < 2000);
    await stillServes(n);
  });
});
