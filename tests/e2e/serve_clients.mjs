// Drives a running `sieve serve` (tiny random checkpoint, served as "tiny", --api-key sk-e2e) with the
// official openai SDK and with raw fetch for the shapes the SDK hides (lm-eval requests, errors, SSE).
// Usage: node serve_clients.mjs http://127.0.0.1:PORT. Exits 1 on the first failed check.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const base = process.argv[2];
const key = 'sk-e2e';
const model = 'tiny';
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0, timeout: 120_000 });
const auth = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };

async function post(path, body, headers = auth) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

async function metrics() {
  const res = await fetch(`${base}/metrics`, { headers: auth });
  assert.equal(res.status, 200);
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const at = line.lastIndexOf(' ');
    values[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return values;
}
const metric = (m, name, labels = '') => m[`${name}{model_name="${model}"${labels}}`];

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
    process.exit(1);
  }
}

// The error body every bad request must have, with its exact status and param.
function assertError(res, status, param) {
  assert.equal(res.status, status, res.text);
  const body = res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(body.error.param, param, res.text);
}

const user = (content) => [{ role: 'user', content }];

await check('models list', async () => {
  const models = await client.models.list();
  assert.equal(models.data[0].id, model);
  assert.equal(models.data[0].object, 'model');
});

await check('chat, thinking off', async () => {
  const r = await client.chat.completions.create({ model, messages: user('Hello!'), max_tokens: 6, temperature: 0, ignore_eos: true });
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.equal(c.message.reasoning_content, null);
  assert.equal(c.finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 6);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 6);
});

await check('chat, thinking on: the output is reasoning (no </think> from a random model)', async () => {
  const r = await client.chat.completions.create({
    model, messages: user('Hello!'), max_tokens: 6, temperature: 0, ignore_eos: true,
    chat_template_kwargs: { thinking: true },
  });
  const m = r.choices[0].message;
  assert.equal(typeof m.reasoning_content, 'string');
  assert.ok(m.reasoning_content.length > 0);
  assert.equal(m.reasoning, m.reasoning_content);
  assert.equal(m.content, '');
});

await check('chat stream with include_usage: usage equals the streamed tokens', async () => {
  const stream = await client.chat.completions.create({
    model, messages: user('Count to three.'), max_tokens: 7, temperature: 0, ignore_eos: true, logprobs: true,
    stream: true, stream_options: { include_usage: true },
  });
  let first = true, tokens = 0, usage = null, finish = null, afterUsage = 0;
  for await (const chunk of stream) {
    if (usage) afterUsage++;
    if (chunk.choices.length === 0) { usage = chunk.usage; continue; }
    const c = chunk.choices[0];
    if (first) assert.equal(c.delta.role, 'assistant');
    first = false;
    tokens += c.logprobs?.content?.length ?? 0;
    if (c.finish_reason) finish = c.finish_reason;
    assert.equal(chunk.usage, null);
  }
  assert.equal(finish, 'length');
  assert.ok(usage, 'no usage chunk');
  assert.equal(afterUsage, 0, 'usage chunk must be last');
  assert.equal(usage.completion_tokens, 7);
  assert.equal(tokens, 7);
});

await check('chat stream without include_usage has no usage-only chunk', async () => {
  const stream = await client.chat.completions.create({ model, messages: user('Hi'), max_tokens: 3, stream: true, ignore_eos: true });
  for await (const chunk of stream) assert.ok(chunk.choices.length === 1 && chunk.usage === undefined);
});

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather of a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

await check('tool round trip: assistant tool_calls + tool result in messages, tool_choice auto/none/named', async () => {
  const messages = [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: null, reasoning: 'I need the tool.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '22C and sunny' },
  ];
  for (const tool_choice of ['auto', 'none', { type: 'function', function: { name: 'get_weather' } }]) {
    const r = await client.chat.completions.create({ model, messages, tools: [weatherTool], tool_choice, max_tokens: 4, temperature: 0, ignore_eos: true });
    const c = r.choices[0];
    assert.ok(['length', 'tool_calls'].includes(c.finish_reason), c.finish_reason);
    if (tool_choice === 'none') assert.equal(c.message.tool_calls, undefined);
    assert.ok(r.usage.prompt_tokens > 40);  // the tool schema and the result are in the prompt
  }
  // The same conversation with the tool result left out is shorter: the result really is encoded.
  const withResult = await post('/tokenize', { model, messages });
  const without = await post('/tokenize', { model, messages: messages.slice(0, 1) });
  assert.ok(withResult.json().count > without.json().count);
});

await check('completions: string prompt, n=2, stop, logprobs', async () => {
  const r = await client.completions.create({ model, prompt: 'The capital of France is', max_tokens: 5, n: 2, temperature: 0, ignore_eos: true, logprobs: 2 });
  assert.equal(r.object, 'text_completion');
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
  assert.equal(r.choices[0].text, r.choices[1].text);  // greedy: both choices agree
  assert.equal(r.choices[0].logprobs.tokens.length, 5);
  assert.equal(r.usage.completion_tokens, 10);
});

await check('lm-eval tokenizer probe: /tokenizer_info, /tokenize, /detokenize', async () => {
  const info = await (await fetch(`${base}/tokenizer_info`, { headers: auth })).json();
  assert.equal(info.eos_token, '<｜end▁of▁sentence｜>');
  const t = (await post('/tokenize', { prompt: 'test', add_special_tokens: false })).json();
  assert.ok(t.tokens.length >= 1 && t.tokens.every(Number.isInteger));
  const withBos = (await post('/tokenize', { prompt: 'test' })).json();
  assert.equal(withBos.tokens.length, t.tokens.length + 1);
  assert.equal((await post('/detokenize', { tokens: t.tokens })).json().prompt, 'test');
});

await check('lm-eval local-completions gsm8k request: stop strings are cut from the text', async () => {
  const body = { prompt: 'Question: 1+1?\nAnswer:', model, max_tokens: 24, temperature: 0, stop: ['Question:', '</s>', '<|im_end|>'], seed: 1234 };
  const r = (await post('/v1/completions', body)).json();
  const free = (await post('/v1/completions', { ...body, stop: undefined, ignore_eos: true })).json();
  assert.equal(typeof r.choices[0].text, 'string');
  assert.ok(!r.choices[0].text.includes('Question:'));
  assert.ok(free.choices[0].text.startsWith(r.choices[0].text));  // same greedy text up to the stop
});

await check('lm-eval loglikelihood request: echo + logprobs, greedy check, max_tokens 0', async () => {
  const ids = (await post('/tokenize', { prompt: 'The sky is blue.', add_special_tokens: true })).json().tokens;
  const body = { model, prompt: [ids], temperature: 0, max_tokens: 1, logprobs: 1, seed: 1234, echo: true };
  const r = (await post('/v1/completions', body)).json();
  const lp = r.choices[0].logprobs;
  assert.equal(lp.token_logprobs.length, ids.length + 1);
  assert.equal(lp.token_logprobs[0], null);
  for (let i = 1; i < lp.token_logprobs.length; i++) {
    assert.equal(typeof lp.token_logprobs[i], 'number');
    assert.ok(lp.token_logprobs[i] <= 0);
    assert.ok(Object.keys(lp.top_logprobs[i]).length >= 1);
  }
  // The generated token is greedy, so its logprob is the max of its top_logprobs (lm-eval's is_greedy).
  const last = lp.token_logprobs.length - 1;
  assert.equal(lp.token_logprobs[last], Math.max(...Object.values(lp.top_logprobs[last])));
  // A prompt token is usually not the model's argmax: the same check fails somewhere (negative control).
  assert.ok(lp.token_logprobs.slice(1, last).some((v, i) => v < Math.max(...Object.values(lp.top_logprobs[i + 1]))));
  // max_tokens 0: the prompt alone, same logprobs.
  const only = (await post('/v1/completions', { ...body, max_tokens: 0 })).json();
  assert.deepEqual(only.choices[0].logprobs.token_logprobs, lp.token_logprobs.slice(0, last));
  assert.equal(only.usage.completion_tokens, 0);
});

await check('64 concurrent streaming clients complete with usage equal to the streamed tokens', async () => {
  const one = async (i) => {
    const stream = await client.completions.create({
      model, prompt: `Client ${i} says`, max_tokens: 4, temperature: 0, ignore_eos: true, logprobs: 0,
      stream: true, stream_options: { include_usage: true },
    });
    let tokens = 0, usage = null;
    for await (const chunk of stream) {
      if (chunk.choices.length === 0) usage = chunk.usage;
      else tokens += chunk.choices[0].logprobs.tokens.length;
    }
    return { tokens, usage };
  };
  const results = await Promise.all(Array.from({ length: 64 }, (_, i) => one(i)));
  for (const r of results) {
    assert.equal(r.usage.completion_tokens, 4);
    assert.equal(r.tokens, r.usage.completion_tokens);
  }
});

await check('client disconnect mid-stream aborts the request and frees its KV blocks', async () => {
  const before = await metrics();
  const aborts = metric(before, 'vllm:request_success_total', ',finished_reason="abort"');
  const controller = new AbortController();
  const res = await fetch(`${base}/v1/completions`, {
    method: 'POST', headers: auth, signal: controller.signal,
    body: JSON.stringify({ model, prompt: 'Go on forever', max_tokens: 400, ignore_eos: true, stream: true }),
  });
  const reader = res.body.getReader();
  await reader.read();  // the first token arrived: the request holds blocks now
  controller.abort();
  const deadline = Date.now() + 20_000;
  let m;
  for (;;) {
    m = await metrics();
    if (metric(m, 'vllm:request_success_total', ',finished_reason="abort"') === aborts + 1 &&
        metric(m, 'vllm:kv_cache_usage_perc') === 0 && metric(m, 'vllm:num_requests_running') === 0) break;
    assert.ok(Date.now() < deadline, `not freed: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(metric(m, 'vllm:request_success_total', ',finished_reason="length"') > 0, true);
});

await check('each bad request gets its status and an OpenAI error body', async () => {
  const chat = (extra) => ({ model, messages: user('Hi'), max_tokens: 2, ...extra });
  assertError(await post('/v1/chat/completions', '{"model": "tiny", "messages": ['), 400, null);
  assertError(await post('/v1/chat/completions', chat({ max_tokens: 'two' })), 400, 'max_tokens');
  assertError(await post('/v1/chat/completions', chat({ temperature: -1 })), 400, 'temperature');
  assertError(await post('/v1/chat/completions', chat({ model: 'gpt-4o' })), 404, 'model');
  assertError(await post('/v1/completions', { model, prompt: Array.from({ length: 600 }, (_, i) => 1000 + i) }), 400, 'prompt');
  assertError(await post('/v1/chat/completions', chat({ max_tokens: 100000 })), 400, 'max_tokens');
  assertError(await post('/v1/chat/completions', chat({ n: 1000 })), 400, 'n');
  assertError(await post('/v1/completions', { model, prompt: 'x', best_of: 4 }), 400, 'best_of');
  assertError(await post('/v1/chat/completions', chat({ tools: [{ type: 'function', function: { name: 'has space' } }] })), 400, 'tools[0].function.name');
  assertError(await post('/v1/chat/completions', chat({ response_format: { type: 'json_schema', json_schema: {} } })), 400, 'response_format.type');
  assertError(await post('/v1/chat/completions', chat({}), { 'Content-Type': 'application/json' }), 401, null);
  assertError(await post('/v1/chat/completions', chat({}), { ...auth, Authorization: 'Bearer wrong' }), 401, null);
  assertError(await post('/v1/completions', { model, prompt: 'x'.repeat(2 << 20) }), 413, null);
  const missing = await fetch(`${base}/v1/nothing`, { headers: auth });
  assertError({ status: missing.status, text: await missing.text(), json() { return JSON.parse(this.text); } }, 404, null);
  assert.equal((await fetch(`${base}/health`)).status, 200);  // no key needed
  // Still serving.
  const ok = await client.chat.completions.create(chat({}));
  assert.equal(ok.choices.length, 1);
});
