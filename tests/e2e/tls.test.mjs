// HTTPS and WSS on the same port, with a self-signed certificate made here at
// run time (openssl), and real TLS clients (node's https and npm ws).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { startNode, runChatd, tempDir, Client } from './lib.mjs';

let dir;
let cert;
let node;
before(async () => {
  dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  node = await startNode({ tls: true, args: ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')] });
});
after(async () => {
  await node.stop();
  node.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function httpsGet(path, options = {}) {
  return new Promise((resolve, reject) => {
    https.get(`${node.http}${path}`, { ca: cert, ...options }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('HTTPS requests are served with the configured certificate', async () => {
  assert.match(node.log(), /listening on https:\/\//);
  const r = await httpsGet('/healthz');
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).status, 'ok');
  // A client that does not trust the certificate refuses it.
  await assert.rejects(httpsGet('/healthz', { ca: undefined }));
});

test('WSS chat: two users over TLS', async () => {
  const alice = await Client.connect(node.ws('alice'), { ca: cert });
  const bob = await Client.connect(node.ws('bob'), { ca: cert });
  await alice.join('secure');
  await bob.join('secure');
  for (let i = 0; i < 50; i++) alice.send({ type: 'send', room: 'secure', id: `t${i}`, body: { i, pad: 'x'.repeat(2000) } });
  const got = await bob.take(50, 'message');
  assert.deepEqual(got.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 1));
  alice.close();
  bob.close();
});

test('plain HTTP to a TLS port is refused, and the node keeps serving', async () => {
  const res = await fetch(`http://127.0.0.1:${node.port}/healthz`).then(() => 'answered', () => 'refused');
  assert.equal(res, 'refused');
  assert.equal((await httpsGet('/healthz')).status, 200);
});

test('bad TLS configuration is a one-line error, exit 2', async () => {
  const d = tempDir();
  try {
    writeFileSync(join(d, 'junk.pem'), 'junk');
    const onlyCert = await runChatd(['--dev', '--http', '127.0.0.1:0', '--data', d, '--tls-cert', join(dir, 'cert.pem')]);
    assert.equal(onlyCert.code, 2);
    assert.match(onlyCert.stderr, /go together/);
    const junk = await runChatd(['--dev', '--http', '127.0.0.1:0', '--data', d, '--tls-cert', join(d, 'junk.pem'), '--tls-key', join(dir, 'key.pem')]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /--tls-cert/);
    for (const r of [onlyCert, junk]) assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
