// TLS between cluster members (--cluster-tls-cert/key/ca, CAF's OpenSSL
// module): a cluster forms and chats over it; a plain-TCP node, or one whose
// certificate another CA signed, is refused and never becomes a member.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, runChatd, startCluster, roomHomedOn, sendAcked, tempDir } from './lib.mjs';

const openssl = (...args) => execFileSync('openssl', args, { stdio: 'ignore' });

/** A CA and one certificate it signed, in `dir`; returns the three flags. */
function pki(dir, name) {
  const f = (x) => join(dir, `${name}-${x}`);
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name} CA`,
    '-keyout', f('ca-key.pem'), '-out', f('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name} member`,
    '-keyout', f('key.pem'), '-out', f('csr.pem'));
  openssl('x509', '-req', '-in', f('csr.pem'), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'),
    '-CAcreateserial', '-days', '1', '-out', f('cert.pem'));
  return ['--cluster-tls-cert', f('cert.pem'), '--cluster-tls-key', f('key.pem'), '--cluster-tls-ca', f('ca.pem')];
}

test('--cluster-tls-*: members chat over TLS; a plain-TCP node and one with another CA are refused', async () => {
  const dir = tempDir();
  const tls = pki(dir, 'cluster');
  const cluster = await startCluster({ nodes: 2, args: ['--dev', ...tls] });
  try {
    assert.match(cluster.log(), /view of n1 is 2 node/);
    // The cluster port speaks TLS and wants a certificate from the cluster's CA.
    const [host, port] = cluster.cluster(1).split(':');
    const hello = spawnSync('openssl', ['s_client', '-brief', '-connect', `${host}:${port}`,
      '-cert', tls[1], '-key', tls[3], '-CAfile', tls[5]], { input: '', timeout: 10000, encoding: 'utf8' });
    assert.match(hello.stderr, /CONNECTION ESTABLISHED[^]*Protocol version: TLS/, hello.stderr);
    // A message crosses the TLS link: sent on node 1 to a room homed on node 2.
    const alice = await Client.connect(cluster.ws(1, 'alice'));
    const bob = await Client.connect(cluster.ws(2, 'bob'));
    const room = await roomHomedOn(cluster, 2, alice, 'tls');
    await bob.join(room);
    await sendAcked(alice, room, 'over-tls');
    const m = await bob.next((f) => f.type === 'message');
    assert.equal(m.id, 'over-tls');
    alice.close();
    bob.close();

    for (const [name, flags] of [['plain', []], ['stranger', pki(dir, 'other')]]) {
      const r = await cluster.tryJoin(join(dir, name), flags);
      assert.notEqual(r.code, 0, `${name} joined: ${r.stderr}`);
      assert.match(r.stderr, /cannot join|cannot reach|refused/, `${name}: ${r.stderr}`);
    }
    assert.equal(await cluster.members(1), 2);
  } finally {
    await cluster.stop();
    cluster.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--cluster-tls-* flags: all three or none, need --cluster, not with --fault-injection, files must be readable', async () => {
  const dir = tempDir();
  try {
    const tls = pki(dir, 'flags');
    const other = pki(dir, 'other');
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem file\n');
    const cases = [
      [['--cluster', '127.0.0.1:0', tls[0], tls[1]], /all three or none/],
      [[...tls], /needs --cluster/],
      [['--cluster', '127.0.0.1:0', '--fault-injection', ...tls], /cannot see inside TLS/],
      [['--cluster', '127.0.0.1:0', '--cluster-tls-cert', join(dir, 'missing.pem'), tls[2], tls[3], tls[4], tls[5]], /--cluster-tls-cert: .*missing\.pem' is not a PEM certificate chain/],
      [['--cluster', '127.0.0.1:0', '--cluster-tls-cert', garbage, tls[2], tls[3], tls[4], tls[5]], /--cluster-tls-cert: .*is not a PEM certificate chain/],
      [['--cluster', '127.0.0.1:0', tls[0], tls[1], '--cluster-tls-key', garbage, tls[4], tls[5]], /--cluster-tls-key: .*is not a PEM private key/],
      [['--cluster', '127.0.0.1:0', tls[0], tls[1], '--cluster-tls-key', other[3], tls[4], tls[5]], /not the key of .*flags-cert/],
      [['--cluster', '127.0.0.1:0', tls[0], tls[1], tls[2], tls[3], '--cluster-tls-ca', garbage], /--cluster-tls-ca: .*is not a PEM CA certificate/],
    ];
    for (const [args, why] of cases) {
      const r = await runChatd(['--dev', '--http', '127.0.0.1:0', '--data', join(dir, 'd'), ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, why, `${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
