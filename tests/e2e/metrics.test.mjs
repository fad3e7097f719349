// GET /metrics of a real node: valid Prometheus text, and series that move as a
// scripted scenario says they should (docs/running.md, "Metrics").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startNode, Client } from './lib.mjs';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(\\{[a-zA-Z_][a-zA-Z0-9_]*="(?:\\\\.|[^"\\\\])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\\\.|[^"\\\\])*")*\\})? (\\S+)$`);

/**
 * Parses the text exposition format as strictly as a scraper: each family has
 * one HELP and one TYPE before its samples; a histogram's buckets are
 * cumulative and end with le="+Inf" equal to its _count, with a _sum.
 * Returns Map("name{labels}" -> number); throws on the first problem.
 */
function parseExposition(text) {
  const samples = new Map();
  const types = new Map();
  const hists = new Map();
  let family = null;
  for (const line of text.replace(/\n$/, '').split('\n')) {
    let m;
    if ((m = new RegExp(`^# HELP (${NAME}) `).exec(line))) continue;
    if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram)$`).exec(line))) {
      assert.ok(!types.has(m[1]), `TYPE twice: ${line}`);
      types.set(m[1], m[2]);
      family = m[1];
      continue;
    }
    m = SAMPLE.exec(line);
    assert.ok(m, `not a sample: '${line}'`);
    const [, name, labels = '', raw] = m;
    const value = raw === '+Inf' ? Infinity : Number(raw);
    assert.ok(!Number.isNaN(value), `not a number: '${line}'`);
    const isHist = types.get(family) === 'histogram';
    const base = isHist ? name.replace(/_(bucket|sum|count)$/, '') : name;
    assert.equal(base, family, `a sample outside its family: '${line}'`);
    assert.ok(!samples.has(name + labels), `duplicate: '${line}'`);
    samples.set(name + labels, value);
    if (isHist) {
      const h = hists.get(family) ?? { buckets: [], count: NaN, sum: false };
      hists.set(family, h);
      if (name.endsWith('_bucket')) h.buckets.push([/le="([^"]*)"/.exec(labels)[1], value]);
      else if (name.endsWith('_count')) h.count = value;
      else h.sum = true;
    }
  }
  for (const [name, h] of hists) {
    assert.equal(h.buckets.at(-1)?.[0], '+Inf', `${name}: the last bucket is not +Inf`);
    assert.equal(h.buckets.at(-1)[1], h.count, `${name}: +Inf is not the _count`);
    assert.ok(h.sum, `${name}: no _sum`);
    for (let i = 1; i < h.buckets.length; ++i) {
      assert.ok(h.buckets[i][1] >= h.buckets[i - 1][1], `${name}: not cumulative`);
      assert.ok(Number(h.buckets[i][0].replace('+Inf', 'Infinity')) > Number(h.buckets[i - 1][0]), `${name}: bounds`);
    }
  }
  return samples;
}

test('the parser rejects what a scraper would', () => {
  assert.doesNotThrow(() => parseExposition('# HELP a_total A.\n# TYPE a_total counter\na_total 1\n'));
  for (const bad of [
    'a_total 1\n',
    '# HELP a A.\n# TYPE a counter\na one\n',
    '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
    '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
  ]) assert.throws(() => parseExposition(bad), undefined, bad);
});

test('/metrics parses as Prometheus text and moves with the scenario: 7 sends, a join, a ping, a ws and an sse client', async () => {
  const node = await startNode();
  try {
    const scrape = async () => parseExposition(await (await fetch(`${node.http}/metrics`)).text());
    const before = await scrape();
    assert.equal(before.get('chat_connections{transport="ws"}'), 0);
    assert.equal(before.get('chat_send_ack_seconds_count'), 0);

    const alice = await Client.connect(node.ws('alice'));
    const sse = await fetch(`${node.http}/sse?user=bob&rooms=lobby`);
    assert.equal(sse.status, 200);
    await alice.join('lobby');
    for (let i = 1; i <= 7; ++i) {
      const ack = await alice.request({ type: 'send', room: 'lobby', id: `m-${i}`, body: { i } });
      assert.equal(ack.type, 'ack');
    }
    await alice.request({ type: 'ping' });
    const after = await scrape();
    const m = (key) => after.get(key) ?? 0;
    assert.equal(m('chat_connections{transport="ws"}'), 1);
    assert.equal(m('chat_connections{transport="sse"}'), 1);
    assert.equal(m('chat_commands_total{type="send",result="forwarded"}'), 7);
    assert.equal(m('chat_commands_total{type="join",result="forwarded"}'), 1);
    assert.equal(m('chat_commands_total{type="ping",result="answered"}'), 1);
    assert.equal(m('chat_room_messages_total'), 7);
    assert.equal(m('chat_deliveries_total'), 14, 'each message to alice and to bob');
    assert.equal(m('chat_cluster_members_by_status{status="up"}'), 1);
    assert.equal(m('chat_cluster_members_by_status{status="down"}'), 0);
    for (const kind of ['room', 'relay', 'store', 'presence_shard'])
      assert.ok(after.has(`chat_mailbox_high_water{kind="${kind}"}`), kind);
    assert.equal(m('chat_outbox_dropped_total'), 0);
    assert.equal(m('chat_slow_consumer_closes_total'), 0);
    assert.equal(m('chat_send_ack_seconds_count'), 7);
    assert.equal(m('chat_store_batch_appends_sum'), 7, 'every append in some group commit');
    assert.ok(m('chat_store_batch_appends_count') >= 1 && m('chat_store_batch_appends_count') <= 7);
    assert.ok(m('chat_store_commit_seconds_count') >= m('chat_store_batch_appends_count'));
    // One relay on this node with members: each message delivered once to it.
    assert.equal(m('chat_delivery_seconds_count'), 7);
    assert.ok(m('chat_send_ack_seconds_sum') > 0);
    console.log(`# 7 sends: ack p50 bucket ${[...after].find(([k, v]) => k.startsWith('chat_send_ack_seconds_bucket') && v >= 4)?.[0]}`);
    alice.close();
    await sse.body.cancel();
    const closed = async () => (await scrape()).get('chat_connections{transport="ws"}') === 0
      && (await scrape()).get('chat_connections{transport="sse"}') === 0;
    for (let i = 0; i < 100 && !(await closed()); ++i) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await closed(), 'the gauges go back to 0');
  } finally {
    await node.stop();
  }
});

test('the Grafana dashboard in docs/ asks only for series a node exports', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana/chatd-dashboard.json', import.meta.url), 'utf8'));
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  assert.ok(exprs.length >= 14);
  const node = await startNode();
  try {
    const families = new Set([...(await (await fetch(`${node.http}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const expr of exprs)
      for (const [name] of expr.matchAll(/chat_[a-z_]+/g)) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(families.has(family), `${name} in '${expr}' is not exported`);
      }
  } finally {
    await node.stop();
  }
});
