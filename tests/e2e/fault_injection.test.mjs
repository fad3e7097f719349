// The fault injector across real `chatd` processes (ADR 9): `--fault-injection`
// routes a node's links through it and `POST /debug/faults` controls it. A node
// cut off this way behaves as one behind a real partition: the others take its
// rooms over, it acknowledges nothing, and after the heal it catches up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAcked, history, roomOnN3, runChatd, startCluster, startNode, viewsConverged } from './lib.mjs';

const faults = async (base, body) => {
  const res = await fetch(`${base}/debug/faults`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

test('--fault-injection is refused without --cluster, --fault-seed without it; a node without it has no /debug/faults', async () => {
  let r = await runChatd(['--dev', '--fault-injection']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--fault-injection needs --cluster/);
  r = await runChatd(['--dev', '--cluster', '127.0.0.1:0', '--fault-seed', '7']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--fault-seed needs --fault-injection/);
  const node = await startNode();
  try {
    const res = await faults(node.http, { isolate: true });
    assert.equal(res.status, 404);
  } finally {
    await node.stop();
  }
});

test('a room\'s home cut off by the injector: the others take the room over, it acks nothing, after the heal one history', async () => {
  const cluster = await startCluster({ args: ['--dev', '--fault-injection', '--fault-seed', '42'] });
  const base = (k) => cluster.http(k);
  try {
    // Bad requests change nothing and say why.
    for (const [body, why] of [
      ['[1]', /JSON object/],
      [{ bogus: 1 }, /unknown fault 'bogus'/],
      [{ drop: 2 }, /probability/],
      [{ delay: [50, 5] }, /min <= max/],
      [{ partition: [] }, /list of node ids/],
      [{ partition: ['n9'] }, /'n9' is not another member/],
      [{ partition: ['n1'] }, /'n1' is not another member/],
    ]) {
      const res = await faults(base(1), body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.message, why);
    }
    assert.equal((await fetch(`${base(1)}/debug/faults`)).status, 405);

    const { a, c, room, acks, send } = await roomOnN3(cluster, 'cut');
    for (let i = 0; i < 3; ++i) await send(a, `before-${i}`);

    // n3 isolated: its links hold every frame; the others cut theirs to it.
    const cut = Date.now();
    const reply = await faults(base(3), { isolate: true });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.seed, 42);
    for (const k of [1, 2]) assert.equal((await faults(base(k), { partition: ['n3'] })).status, 200);
    await send(a, 'during-0');
    console.log(`# failover: first ack through n1 ${Date.now() - cut} ms after n3 was cut off`);
    for (let i = 1; i < 3; ++i) await send(a, `during-${i}`);
    // The cut-off home cannot get its replica's confirmation: no ack.
    const refused = await c.request({ type: 'send', room, id: 'from-the-minority', body: {} }, 20000);
    assert.equal(refused.type, 'error', JSON.stringify(refused));
    assert.equal(refused.code, 'unavailable');

    for (const k of [1, 2, 3]) assert.equal((await faults(base(k), { heal: true })).status, 200);
    await Promise.all([
      (async () => { for (let i = 0; i < 3; ++i) await send(c, `healed-${i}`); })(),
      (async () => { for (let i = 0; i < 3; ++i) await send(a, `after-${i}`); })(),
    ]);
    // Reads agree once the views do (a node that has not yet seen n3 back may
    // still ask the room's former home: docs/guarantees.md).
    await viewsConverged(base);
    const histories = [];
    for (let k = 1; k <= 3; ++k) histories.push(await history(base(k), room));
    checkAcked(acks, histories);
    a.close();
    c.close();
  } finally {
    await cluster.stop();
    cluster.cleanup();
  }
});

test('an actor that never ends does not keep a stopped node alive: the exit deadline ends it 10 s after the store is flushed', async () => {
  const args = ['--node-id', 'n1', '--cluster', '127.0.0.1:0', '--fault-injection'];
  // Without a stuck actor, the node exits as soon as its actors have ended.
  const calm = await startNode({ args });
  assert.equal((await calm.stop('SIGINT')).code, 0);
  assert.doesNotMatch(calm.log(), /exiting anyway/);

  const node = await startNode({ args });
  assert.equal((await faults(node.http, { stuck_actor: 'yes' })).status, 400);
  assert.equal((await faults(node.http, { stuck_actor: true })).status, 200);
  const stopped = Date.now();
  assert.equal((await node.stop('SIGINT')).code, 0);
  const took = Date.now() - stopped;
  // The process's last stderr bytes can arrive after its exit event.
  for (let i = 0; i < 40 && !/exiting anyway/.test(node.log()); ++i) await new Promise((r) => setTimeout(r, 50));
  assert.match(node.log(), /store flushed, bye[\s\S]*chatd: actors still running 10 s after the store was flushed: exiting anyway/);
  assert.ok(took >= 9000, `exited after ${took} ms, before the grace`);
  console.log(`# exit deadline: a node with a stuck actor exited ${took} ms after SIGINT`);
});
