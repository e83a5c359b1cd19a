// Drives a running `sieve serve` with the official openai SDK and raw fetch, the way vLLM's clients do.
// Usage: node serve_clients.mjs main|guarded BASE_URL. Every request has a timeout and no retries; the
// script prints one line per check and "N passed, N failed" at the end, exiting 1 on any failure.
import OpenAI from "openai";

const [mode, base] = process.argv.slice(2);
const MODEL = "tiny";
const TIMEOUT_MS = 60_000;
let passed = 0;
let failed = 0;

function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : ": " + detail}`);
}

async function post(path, body, headers = {}) {
  const r = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function get(path) {
  const r = await fetch(base + path, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return { status: r.status, text: await r.text() };
}

function metric(text, name) {
  const line = text.split("\n").find((l) => l.startsWith(name + "{") || l.startsWith(name + " "));
  return line === undefined ? NaN : Number(line.split(" ").pop());
}

function isOpenAiError(json, param) {
  return json && json.error && typeof json.error.message === "string" && typeof json.error.type === "string" &&
    "param" in json.error && "code" in json.error && (param === undefined || json.error.param === param);
}

const client = new OpenAI({ baseURL: base + "/v1", apiKey: "unused", timeout: TIMEOUT_MS, maxRetries: 0 });
const user = (text) => [{ role: "user", content: text }];

// Structured outputs are enforced: schemas whose documents are short (a boolean and an enum), so the random
// model must finish them well within max_tokens; each result is parsed and checked against its schema.
const modeSchema = { type: "object", properties: { on: { type: "boolean" }, mode: { enum: ["eco", "fast", "auto"] } },
  required: ["on", "mode"], additionalProperties: false };
const fitsMode = (v) => v !== null && typeof v === "object" && Object.keys(v).length === 2 && typeof v.on === "boolean" &&
  ["eco", "fast", "auto"].includes(v.mode);
const parseOrNull = (text) => { try { return JSON.parse(text); } catch { return null; } };
const forcedTools = [
  { type: "function", function: { name: "set_mode", parameters: modeSchema } },
  { type: "function", function: { name: "toggle", parameters: { type: "object", properties: { on: { type: "boolean" } },
    required: ["on"] } } }];

async function streamedMessage(request) {
  const stream = client.beta.chat.completions.stream({ ...request, stream: true });
  return (await stream.finalChatCompletion()).choices[0];
}

async function structuredChecks() {
  const format = { type: "json_schema", json_schema: { name: "mode", strict: true, schema: modeSchema } };
  for (const temperature of [0, 1]) {
    const r = await client.chat.completions.create({ model: MODEL, messages: user("Pick a mode"), max_tokens: 100,
      temperature, seed: 5, response_format: format });
    const c = r.choices[0];
    check(`response_format json_schema (temperature ${temperature}): stop, JSON.parse OK, schema-valid`,
      c.finish_reason === "stop" && fitsMode(parseOrNull(c.message.content)), JSON.stringify(c));
  }
  const free = await client.chat.completions.create({ model: MODEL, messages: user("Pick a mode"), max_tokens: 100, seed: 5 });
  check("negative control: without response_format the text is not such a document",
    !fitsMode(parseOrNull(free.choices[0].message.content)), free.choices[0].message.content);
  const streamed = await streamedMessage({ model: MODEL, messages: user("Pick a mode"), max_tokens: 100, response_format: format });
  check("response_format json_schema streamed: schema-valid", fitsMode(parseOrNull(streamed.message.content)),
    JSON.stringify(streamed));
  const object = await client.chat.completions.create({ model: MODEL, messages: user("JSON please"), max_tokens: 200,
    response_format: { type: "json_object" } });
  const objectText = object.choices[0].message.content;
  check("response_format json_object: a JSON object when it stops",
    object.choices[0].finish_reason === "length" || (parseOrNull(objectText) !== null && typeof parseOrNull(objectText) === "object"),
    objectText);

  const named = { model: MODEL, messages: user("Set the mode"), max_tokens: 100, tools: forcedTools,
    tool_choice: { type: "function", function: { name: "set_mode" } } };
  const namedWhole = (await client.chat.completions.create(named)).choices[0];
  const namedStreamed = await streamedMessage(named);
  for (const [how, c] of [["whole", namedWhole], ["streamed", namedStreamed]]) {
    const call = c.message.tool_calls?.[0];
    check(`tool_choice named (${how}): one set_mode call with schema-valid arguments, finish stop`,
      c.finish_reason === "stop" && c.message.tool_calls.length === 1 && call.function.name === "set_mode" &&
      call.id && fitsMode(parseOrNull(call.function.arguments)), JSON.stringify(c));
  }
  // parallel_tool_calls: false bounds the list to one call, so the random model must close it.
  const required = { model: MODEL, messages: user("Do something"), max_tokens: 120, tools: forcedTools, tool_choice: "required",
    parallel_tool_calls: false };
  const requiredWhole = (await client.chat.completions.create(required)).choices[0];
  const requiredStreamed = await streamedMessage(required);
  for (const [how, c] of [["whole", requiredWhole], ["streamed", requiredStreamed]]) {
    const calls = c.message.tool_calls ?? [];
    const valid = calls.length === 1 && calls.every((t) => t.id && (t.function.name === "set_mode"
      ? fitsMode(parseOrNull(t.function.arguments))
      : t.function.name === "toggle" && typeof parseOrNull(t.function.arguments)?.on === "boolean"));
    check(`tool_choice required, parallel_tool_calls false (${how}): 1 call, each a known tool with valid arguments, finish tool_calls`,
      c.finish_reason === "tool_calls" && valid, JSON.stringify(c));
  }
}

async function mainChecks() {
  const models = await client.models.list();
  check("GET /v1/models lists the served name", models.data[0]?.id === MODEL, JSON.stringify(models.data));

  // Chat, thinking off: the answer is content.
  const off = await client.chat.completions.create({ model: MODEL, messages: user("Hello!"), max_tokens: 12, ignore_eos: true });
  const offMsg = off.choices[0].message;
  check("chat (thinking off): content, length finish, usage",
    typeof offMsg.content === "string" && offMsg.content.length > 0 && off.choices[0].finish_reason === "length" &&
    off.usage.completion_tokens === 12 && off.usage.prompt_tokens > 0, JSON.stringify(off));

  // Chat, thinking on: generation starts inside <think>, so the text is reasoning.
  const on = await client.chat.completions.create({
    model: MODEL, messages: user("Think first."), max_tokens: 12, ignore_eos: true,
    chat_template_kwargs: { thinking: true },
  });
  const onMsg = on.choices[0].message;
  check("chat (thinking on): reasoning_content and reasoning",
    typeof onMsg.reasoning_content === "string" && onMsg.reasoning_content.length > 0 &&
    onMsg.reasoning === onMsg.reasoning_content, JSON.stringify(onMsg));

  // Streaming with usage: no chunk before the first token; role first; one usage chunk with empty choices last.
  const stream = await client.chat.completions.create({
    model: MODEL, messages: user("Stream please"), max_completion_tokens: 10, ignore_eos: true, stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const last = chunks[chunks.length - 1];
  const body = chunks.slice(0, -1);
  check("chat stream: usage chunk last with empty choices and 10 completion tokens",
    last.choices.length === 0 && last.usage.completion_tokens === 10 && body.every((c) => c.usage === null && c.choices.length === 1),
    JSON.stringify(last));
  check("chat stream: first chunk has role and text, last content chunk finishes with length",
    body[0].choices[0].delta.role === "assistant" && body[body.length - 1].choices[0].finish_reason === "length",
    JSON.stringify(body[0]));
  const noUsage = await client.chat.completions.create({ model: MODEL, messages: user("x"), max_tokens: 3, stream: true });
  let sawUsageChunk = false;
  for await (const c of noUsage) if (c.choices.length === 0) sawUsageChunk = true;
  check("chat stream without include_usage sends no usage chunk", !sawUsageChunk);

  // Tool-call round trip: tools offered, the model's turn, then the assistant's call and the tool result go back.
  const tools = [{ type: "function", function: { name: "get_weather", description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const toolStream = client.beta.chat.completions.stream({
    model: MODEL, messages: user("Weather in Paris?"), tools, tool_choice: "auto", max_tokens: 8,
  });
  const assembled = await toolStream.finalChatCompletion();
  check("tools offered (auto): the SDK assembles the streamed message",
    ["stop", "length", "tool_calls"].includes(assembled.choices[0].finish_reason), JSON.stringify(assembled.choices[0]));
  const followUp = await client.chat.completions.create({
    model: MODEL, max_tokens: 6, tools,
    messages: [...user("Weather in Paris?"),
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function",
        function: { name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) } }] },
      { role: "tool", tool_call_id: "call_1", content: "22 C and sunny" }],
  });
  check("tool result sent back is accepted and answered", followUp.choices.length === 1 && followUp.usage.prompt_tokens > 20,
    JSON.stringify(followUp));

  await structuredChecks();

  // Completions: string prompt, n = 2, stop string cut from the text.
  const cmpl = await client.completions.create({ model: MODEL, prompt: "The capital of France is", max_tokens: 8, n: 2, ignore_eos: true });
  check("completions: n = 2 choices with text and usage",
    cmpl.choices.length === 2 && cmpl.choices[1].index === 1 && cmpl.usage.completion_tokens === 16, JSON.stringify(cmpl));
  const cstream = await client.completions.create({ model: MODEL, prompt: "Once", max_tokens: 5, ignore_eos: true, stream: true,
    stream_options: { include_usage: true } });
  let text = "";
  let usage = null;
  for await (const c of cstream) { if (c.choices.length) text += c.choices[0].text; else usage = c.usage; }
  check("completions stream: text and usage chunk", text.length > 0 && usage?.completion_tokens === 5, JSON.stringify(usage));
  const whole = await client.completions.create({ model: MODEL, prompt: "Once", max_tokens: 24, ignore_eos: true, seed: 7, temperature: 0 });
  const word = whole.choices[0].text.slice(6, 9);
  if (word.length > 0) {
    const cut = await client.completions.create({ model: MODEL, prompt: "Once", max_tokens: 24, ignore_eos: true, seed: 7,
      temperature: 0, stop: [word] });
    check("completions: stop string is cut from the text",
      !cut.choices[0].text.includes(word) && whole.choices[0].text.startsWith(cut.choices[0].text) &&
      cut.choices[0].finish_reason === "stop", JSON.stringify({ whole: whole.choices[0].text, cut: cut.choices[0] }));
  }

  // lm-eval local-completions: tokenizer probe, gsm8k generate_until, loglikelihood (echo + logprobs).
  const info = await get("/tokenizer_info");
  const tok = await post("/tokenize", { prompt: "test", add_special_tokens: false });
  check("lm-eval probe: /tokenizer_info has eos_token, /tokenize has tokens",
    info.status === 200 && typeof JSON.parse(info.text).eos_token === "string" && Array.isArray(tok.json.tokens) && tok.json.tokens.length > 0,
    info.text + " " + tok.text);
  const detok = await post("/detokenize", { tokens: tok.json.tokens });
  check("/detokenize inverts /tokenize", detok.json?.prompt === "test", detok.text);
  const gsm = await post("/v1/completions", { prompt: "Question: Tom has 3 apples and buys 2 more. How many?\nAnswer:",
    model: MODEL, max_tokens: 32, temperature: 0, stop: ["Question:", "</s>", "<|im_end|>"], seed: 1234 });
  check("lm-eval gsm8k request: 200 with text", gsm.status === 200 && typeof gsm.json.choices[0].text === "string" &&
    !gsm.json.choices[0].text.includes("Question:"), gsm.text);
  const ctx = tok.json.tokens;
  const ll = await post("/v1/completions", { model: MODEL, prompt: [[...ctx, 11, 12], [0, ...ctx]], temperature: 0, max_tokens: 1,
    logprobs: 1, seed: 1234, echo: true });
  const lp = ll.json?.choices?.[0]?.logprobs;
  const lp1 = ll.json?.choices?.[1]?.logprobs;
  const n0 = ctx.length + 2;
  const aligned = lp && lp.token_logprobs.length === n0 + 1 && lp.top_logprobs.length === n0 + 1 &&
    lp.token_logprobs[0] === null && lp.token_logprobs.slice(1).every((x) => typeof x === "number" && x <= 0) &&
    lp.top_logprobs.slice(1).every((t, i) => Math.max(...Object.values(t)) >= lp.token_logprobs[i + 1] - 1e-6);
  check("lm-eval loglikelihood: echo + logprobs aligned with the prompt, top_logprobs hold the max",
    ll.status === 200 && aligned && lp1.token_logprobs.length === ctx.length + 2 && ll.json.choices[1].index === 1,
    ll.text.slice(0, 400));

  // 64 concurrent streaming clients, each with exact usage.
  const t0 = performance.now();
  const ttfts = [];
  const results = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    const start = performance.now();
    const s = await client.chat.completions.create({ model: MODEL, messages: user(`client ${i}`), max_tokens: 16,
      ignore_eos: true, stream: true, stream_options: { include_usage: true } });
    let events = 0;
    let u = null;
    for await (const c of s) {
      if (c.choices.length) { if (events++ === 0) ttfts.push(performance.now() - start); } else u = c.usage;
    }
    return u?.completion_tokens === 16 && events > 0;
  }));
  const seconds = (performance.now() - t0) / 1000;
  ttfts.sort((a, b) => a - b);
  check(`64 concurrent streams complete with completion_tokens = 16 (${seconds.toFixed(2)} s, TTFT median ` +
    `${ttfts[32]?.toFixed(0)} ms, p99 ${ttfts[63]?.toFixed(0)} ms)`, results.every(Boolean), `${results.filter(Boolean).length}/64`);

  // A client that disconnects mid-stream: its request is aborted and its KV blocks freed.
  const before = await get("/metrics");
  const controller = new AbortController();
  const r = await fetch(base + "/v1/completions", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model: MODEL, prompt: "A long story:", max_tokens: 400, ignore_eos: true, stream: true }),
    signal: controller.signal });
  const reader = r.body.getReader();
  await reader.read();
  const during = await get("/metrics");
  controller.abort();
  const deadline = Date.now() + 10_000;
  let after = during;
  while (Date.now() < deadline) {
    after = await get("/metrics");
    if (metric(after.text, "sieve:kv_cache_blocks_used") === 0 && metric(after.text, "vllm:num_requests_running") === 0) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const abortedBefore = metric(before.text, 'vllm:request_success_total{model_name="tiny",finished_reason="abort"}');
  const abortedAfter = metric(after.text, 'vllm:request_success_total{model_name="tiny",finished_reason="abort"}');
  check("disconnect mid-stream: blocks held while streaming, freed after, counted as abort",
    metric(during.text, "sieve:kv_cache_blocks_used") > 0 && metric(after.text, "sieve:kv_cache_blocks_used") === 0 &&
    abortedAfter === abortedBefore + 1, `during ${metric(during.text, "sieve:kv_cache_blocks_used")} after ${metric(after.text, "sieve:kv_cache_blocks_used")} aborts ${abortedBefore}->${abortedAfter}`);
  check("/metrics has vLLM names", ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
    "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:time_to_first_token_seconds_bucket",
    "vllm:e2e_request_latency_seconds_count", "vllm:request_success_total"].every((n) => after.text.includes(n)));

  // Each bad request: its status and the OpenAI error shape; the server keeps serving.
  const msgs = user("x");
  const longPrompt = Array.from({ length: 600 }, () => 100);
  const bad = [
    ["malformed JSON", "/v1/chat/completions", '{"messages": [', 400, null],
    ["wrong type", "/v1/chat/completions", { model: MODEL, messages: msgs, temperature: "hot" }, 400, "temperature"],
    ["unknown model", "/v1/chat/completions", { model: "gpt-9", messages: msgs }, 404, "model"],
    ["prompt longer than max-model-len", "/v1/completions", { model: MODEL, prompt: longPrompt }, 400, "prompt"],
    ["max_tokens too large", "/v1/chat/completions", { model: MODEL, messages: msgs, max_tokens: 100000 }, 400, "max_tokens"],
    ["n out of range", "/v1/completions", { model: MODEL, prompt: "x", n: 0 }, 400, "n"],
    ["bad tool schema", "/v1/chat/completions", { model: MODEL, messages: msgs, tools: [{ type: "function", function: { parameters: {} } }] },
      400, "tools[0].function.name"],
    ["bad role", "/v1/chat/completions", { model: MODEL, messages: [{ role: "wizard", content: "x" }] }, 400, "messages[0].role"],
  ];
  for (const [name, path, body, status, param] of bad) {
    const got = await post(path, body);
    check(`bad request (${name}) -> ${status}`, got.status === status && isOpenAiError(got.json, param ?? undefined), `${got.status} ${got.text}`);
  }
  const unknownRoute = await get("/v1/nothing");
  check("unknown route -> 404 OpenAI error", unknownRoute.status === 404 && isOpenAiError(JSON.parse(unknownRoute.text)));
  const health = await get("/health");
  const version = await get("/version");
  check("still serving after bad requests: /health 200, /version", health.status === 200 && JSON.parse(version.text).version);
}

// A second server: --api-key and a Speciale checkpoint folder (no tool calling).
async function guardedChecks() {
  const noKey = await post("/v1/chat/completions", { model: MODEL, messages: user("x"), max_tokens: 2 });
  check("no API key -> 401 OpenAI error", noKey.status === 401 && isOpenAiError(noKey.json), noKey.text);
  const wrongKey = await post("/v1/chat/completions", { model: MODEL, messages: user("x"), max_tokens: 2 }, { Authorization: "Bearer nope" });
  check("wrong API key -> 401", wrongKey.status === 401, wrongKey.text);
  const keyed = new OpenAI({ baseURL: base + "/v1", apiKey: "sk-test", timeout: TIMEOUT_MS, maxRetries: 0 });
  const ok = await keyed.chat.completions.create({ model: MODEL, messages: user("x"), max_tokens: 2 });
  check("right API key -> 200", ok.choices.length === 1);
  const tools = await post("/v1/chat/completions", { model: MODEL, messages: user("x"),
    tools: [{ type: "function", function: { name: "f" } }] }, { Authorization: "Bearer sk-test" });
  check("tools sent to Speciale -> 400 param tools", tools.status === 400 && isOpenAiError(tools.json, "tools"), tools.text);
  const health = await get("/health");
  check("/health needs no key", health.status === 200);
}

try {
  await (mode === "guarded" ? guardedChecks() : mainChecks());
} catch (e) {
  check("unexpected exception", false, e.stack || String(e));
}
console.log(`${mode}: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
