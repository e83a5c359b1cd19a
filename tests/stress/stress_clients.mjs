// Load, faults and hostile input against a running `sieve serve` (tiny random checkpoint served as "tiny",
// --api-key sk-stress, ). Every scenario prints its figure
// "tried N completed N errored N lost N"; lost (no complete, well-formed answer and no 4xx) must be 0 and
// no reply may be a 5xx. Node built-ins only (fetch, net). Usage: node stress_clients.mjs BASE_URL [N]
import assert from 'node:assert/strict';
import net from 'node:net';

const base = process.argv[2];
const clients = Number(process.argv[3] ?? 64);
const url = new URL(base);
const auth = { Authorization: 'Bearer sk-stress', 'Content-Type': 'application/json' };
const model = 'tiny';
let failed = false;

function figure(name, f) {
  const ok = f.lost === 0 && f.server_errors === 0 && (f.expect ? f.expect() : true);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: tried ${f.tried} completed ${f.completed} errored ${f.errored} lost ${f.lost}` +
              (f.server_errors ? ` 5xx ${f.server_errors}` : '') + (f.note ? ` (${f.note})` : ''));
  if (!ok) failed = true;
}
const counts = () => ({ tried: 0, completed: 0, errored: 0, lost: 0, server_errors: 0 });

async function metrics() {
  const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
  const m = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const at = line.lastIndexOf(' ');
    m[line.slice(0, line.indexOf('{') >= 0 ? line.indexOf('{') : at) + (line.includes('finished_reason') ? line.match(/finished_reason="(\w+)"/)[1] : '')] = Number(line.slice(at + 1));
  }
  return m;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Calls probe() every `every` ms until done(its value) or `ms` have passed; returns the last value.
async function pollUntil(probe, done, ms, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(every);
  }
}
// Waits (deadline 30 s) until the engine is idle and every KV block is free again.
async function idle() {
  const isIdle = async () => {
    const m = await metrics();
    return m['vllm:num_requests_running'] === 0 && m['vllm:num_requests_waiting'] === 0 && m['vllm:kv_cache_usage_perc'] === 0;
  };
  return pollUntil(isIdle, (ok) => ok, 30_000);
}

// One SSE request read to the end; returns {status, events} or throws.
async function streamed(path, body) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: auth, body: JSON.stringify({ ...body, stream: true }) });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, text };
  const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  return { status: 200, events };
}

// A streamed answer is complete when it ends with [DONE], carries a usage chunk last, and the usage equals
// the tokens streamed (counted from logprobs, one entry per token).
function checkStream(events, wantChoices) {
  if (events.at(-1) !== '[DONE]') return false;
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  const usage = chunks.at(-1);
  if (usage.choices.length !== 0 || !usage.usage) return false;
  let tokens = 0;
  const finished = new Set();
  for (const c of chunks.slice(0, -1)) for (const ch of c.choices) {
    tokens += ch.logprobs?.tokens?.length ?? ch.logprobs?.content?.length ?? 0;
    if (ch.finish_reason) finished.add(ch.index);
  }
  return tokens === usage.usage.completion_tokens && finished.size === wantChoices;
}

// --- Load: mixed streaming / non-streaming, n > 1, stop strings, tools, mixed prompt lengths.
const greedyAlone = new Map();
async function loadRequest(i) {
  const words = 'lorem ipsum dolor sit amet '.repeat(1 + (i % 7) * 6);
  switch (i % 4) {
    case 0: {  // streamed completion with usage
      const r = await streamed('/v1/completions', { model, prompt: `${i}: ${words}`, max_tokens: 6, temperature: 0, ignore_eos: true, logprobs: 0, stream_options: { include_usage: true } });
      return r.status === 200 ? checkStream(r.events, 1) : r.status;
    }
    case 1: {  // non-streamed completion, n = 2, a stop string
      const res = await fetch(`${base}/v1/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model, prompt: words, max_tokens: 6, n: 2, temperature: 0, stop: ['ipsum'] }) });
      if (res.status !== 200) return res.status;
      const r = await res.json();
      return r.choices.length === 2 && r.choices.every((c) => !c.text.includes('ipsum') && c.finish_reason);
    }
    case 2: {  // streamed chat with tools
      const r = await streamed('/v1/chat/completions', { model, messages: [{ role: 'user', content: words }], max_tokens: 5, logprobs: true, ignore_eos: true,
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
        stream_options: { include_usage: true } });
      return r.status === 200 ? checkStream(r.events, 1) : r.status;
    }
    default: {  // greedy chat, compared later with the same request run alone
      const body = { model, messages: [{ role: 'user', content: `alone ${i % 8}` }], max_tokens: 6, temperature: 0, ignore_eos: true };
      const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      if (res.status !== 200) return res.status;
      const text = (await res.json()).choices[0].message.content;
      const key = i % 8;
      if (!greedyAlone.has(key)) greedyAlone.set(key, { body, texts: [] });
      greedyAlone.get(key).texts.push(text);
      return true;
    }
  }
}

async function runAll(n, fn, f) {
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    f.tried++;
    try {
      const r = await fn(i);
      if (r === true) f.completed++;
      else if (typeof r === 'number' && r >= 500) { f.server_errors++; f.lost++; }
      else if (typeof r === 'number') f.errored++;
      else f.lost++;
    } catch (e) { f.lost++; console.log(`  ${e}`); }
  }));
}

{
  const f = counts();
  const t0 = Date.now();
  await runAll(clients * 2, loadRequest, f);
  let mismatches = 0;
  for (const { body, texts } of greedyAlone.values()) {
    const alone = (await (await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(body) })).json()).choices[0].message.content;
    mismatches += texts.filter((t) => t !== alone).length;
  }
  const freed = await idle();
  f.note = `${clients} concurrent, ${Date.now() - t0} ms, greedy mismatches vs alone ${mismatches}, KV freed ${freed}`;
  f.expect = () => mismatches === 0 && freed && f.errored === 0;
  figure('load', f);
}

// --- Faults over raw sockets: disconnect mid-stream, mid-body, a consumer that never reads, slowloris.
function rawRequest(body, { contentLength = Buffer.byteLength(body), send = body } = {}) {
  const s = net.connect(Number(url.port), url.hostname);
  s.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-stress\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`);
  if (send) s.write(send);
  return s;
}
const longStream = JSON.stringify({ model, prompt: 'go', max_tokens: 300, ignore_eos: true, stream: true });
{
  const f = counts();
  const before = await metrics();
  await Promise.all(Array.from({ length: 8 }, () => new Promise((resolve) => {
    f.tried++;
    const s = rawRequest(longStream);
    s.once('data', () => { s.destroy(); f.completed++; resolve(); });
    s.on('error', () => { f.lost++; resolve(); });
  })));
  const freed = await idle();
  // The engine is idle once it has dropped the aborted requests, but each handler thread records its request's
  // finish in /metrics only when it wakes up next (within its 10 ms poll, later on a loaded machine): wait for
  // the count to settle (deadline 10 s) instead of reading it once.
  const abortsSince = async () =>
    (await metrics())['vllm:request_success_totalabort'] - (before['vllm:request_success_totalabort'] ?? 0);
  const aborts = await pollUntil(abortsSince, (n) => n >= 8, 10_000);
  f.note = `aborted ${aborts}, KV freed ${freed}`;
  f.expect = () => freed && aborts === 8;
  figure('disconnect mid-stream', f);
}
{
  const f = counts();
  for (let i = 0; i < 8; i++) {
    f.tried++;
    const s = rawRequest(longStream, { contentLength: 10_000, send: longStream.slice(0, 20) });
    await sleep(20);
    s.destroy();
    f.completed++;
  }
  const ok = (await fetch(`${base}/v1/models`, { headers: auth })).status === 200;
  f.note = `server answers after: ${ok}`;
  f.expect = () => ok;
  figure('disconnect mid-body', f);
}
{
  const f = counts();
  // Never reads: the server must not block other clients; its request is bounded by max_tokens and the
  // socket is closed afterwards.
  const sockets = Array.from({ length: 4 }, () => { f.tried++; return rawRequest(JSON.stringify({ model, prompt: 'x', max_tokens: 200, ignore_eos: true, stream: true })); });
  sockets.forEach((s) => s.pause());
  const t0 = Date.now();
  const res = await fetch(`${base}/v1/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model, prompt: 'hi', max_tokens: 2 }) });
  const other = res.status === 200;
  sockets.forEach((s) => { s.destroy(); f.completed++; });
  const freed = await idle();
  f.note = `another client served in ${Date.now() - t0} ms: ${other}, KV freed ${freed}`;
  f.expect = () => other && freed;
  figure('slow consumer', f);
}
{
  const f = counts();
  f.tried++;
  const s = rawRequest('', { contentLength: 200, send: '{"mo' });
  let closed = false;
  s.on('close', () => { closed = true; });
  s.on('error', () => {});
  const timer = setInterval(() => { if (!closed) s.write(' '); }, 1000);
  await pollUntil(() => closed, (c) => c, 20_000, 100);
  clearInterval(timer);
  s.destroy();
  const ok = (await fetch(`${base}/v1/models`, { headers: auth })).status === 200;
  if (closed) f.completed++; else f.lost++;
  f.note = `slow body cut by the server: ${closed}, server answers: ${ok}`;
  f.expect = () => ok;
  figure('slowloris', f);
}

// --- Hostile input: each gets its exact 4xx (or 200 where the input is legal) and the server serves on.
{
  const f = counts();
  const cases = [
    ['oversized body (over the 64 MiB limit)', '{"model":"tiny","prompt":"' + 'a'.repeat(65 << 20) + '"}', 413],
    ['deeply nested JSON', '{"model":"tiny","prompt":' + '['.repeat(100000) + ']'.repeat(100000) + '}', 400],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"model":"tiny","prompt":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","max_tokens":2}')]), 400],
    ['huge max_tokens', JSON.stringify({ model, prompt: 'x', max_tokens: 1e12 }), 400],
    ['huge n', JSON.stringify({ model, prompt: 'x', n: 1e9 }), 400],
    ['huge logprobs', JSON.stringify({ model, prompt: 'x', logprobs: 1e6 }), 400],
    ['negative temperature', JSON.stringify({ model, prompt: 'x', temperature: -0.5 }), 400],
    ['NaN top_p', '{"model":"tiny","prompt":"x","top_p":NaN}', 400],
    ['negative top_k', JSON.stringify({ model, prompt: 'x', top_k: -7 }), 400],
    ['unknown fields', JSON.stringify({ model, prompt: 'x', max_tokens: 2, store: true, metadata: { a: 1 }, service_tier: 'auto' }), 200],
    ['special-token prompt ids', JSON.stringify({ model, prompt: [0, 1, 0, 1, 128798, 128799], max_tokens: 2 }), 200],
    ['absurd tool schema', JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2, tools: Array.from({ length: 3000 }, (_, i) => ({ type: 'function', function: { name: `f${i}`, parameters: { type: 'object', properties: { a: { type: 'string', description: 'y'.repeat(100) } } } } })) }), 400],
  ];
  for (const [name, body, want] of cases) {
    f.tried++;
    const path = name === 'absurd tool schema' ? '/v1/chat/completions' : '/v1/completions';
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: auth, body });
    const text = await res.text();
    if (res.status >= 500) { f.server_errors++; f.lost++; }
    else if (res.status === want) { f.completed++; }
    else { f.errored++; console.log(`  ${name}: got ${res.status}, want ${want}: ${text.slice(0, 200)}`); }
  }
  // Nothing a request says may make the server read a file: a model name, a schema $ref and a URL path
  // that name /etc/passwd are refused without its contents appearing anywhere in the answer.
  const fileCases = [
    ['model name as a path', '/v1/completions', JSON.stringify({ model: '../../../../etc/passwd', prompt: 'x', max_tokens: 2 }), 404],
    ['schema $ref to a file', '/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2,
      response_format: { type: 'json_schema', json_schema: { name: 'f', schema: { $ref: 'file:///etc/passwd' } } } }), 400],
  ];
  for (const [name, path, body, want] of fileCases) {
    f.tried++;
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: auth, body });
    const text = await res.text();
    if (res.status >= 500) { f.server_errors++; f.lost++; }
    else if (res.status === want && !text.includes('root:')) { f.completed++; }
    else { f.errored++; console.log(`  ${name}: got ${res.status}, want ${want}: ${text.slice(0, 200)}`); }
  }
  {  // A raw request line: fetch would normalize the dot segments away. write(), not end(): a half-closed
     // socket may get no answer at all; "Connection: close" has the server close after answering.
    f.tried++;
    const answer = await new Promise((resolve) => {
      const s = net.connect(Number(url.port), url.hostname, () => s.write(`GET /%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.Authorization}\r\nConnection: close\r\n\r\n`));
      let got = '';
      s.on('data', (d) => { got += d; });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    if (/^HTTP\/1\.1 404/.test(answer) && !answer.includes('root:')) f.completed++;
    else { f.errored++; console.log(`  dot-segment path: ${answer.slice(0, 200)}`); }
  }
  const ok = (await fetch(`${base}/v1/models`, { headers: auth })).status === 200;
  f.note = 'completed = got the expected status';
  f.expect = () => ok && f.errored === 0;
  figure('hostile input', f);
}

// --- Security: every endpoint but /health needs the key.
{
  const f = counts();
  for (const [method, path] of [['GET', '/v1/models'], ['GET', '/metrics'], ['GET', '/tokenizer_info'], ['GET', '/version'],
                                ['POST', '/tokenize'], ['POST', '/detokenize'], ['POST', '/v1/completions'], ['POST', '/v1/chat/completions']]) {
    f.tried++;
    const res = await fetch(`${base}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    if (res.status === 401) f.completed++; else { f.errored++; console.log(`  ${method} ${path} without key: ${res.status}`); }
  }
  f.tried++;
  if ((await fetch(`${base}/health`)).status === 200) f.completed++; else f.errored++;
  f.expect = () => f.errored === 0;
  figure('api key on every endpoint but /health', f);
}

process.exit(failed ? 1 : 0);
