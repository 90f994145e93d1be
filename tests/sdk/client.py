"""The official `openai` Python SDK against a real `routerc serve` (started by tests/sdk.rs).

Usage: client.py BASE_URL   (e.g. http://127.0.0.1:PORT/v1)

The mock upstream behind routerc answers with a content that says what it received:
"<backend>|<model>|<system prompt>|<last user message>", streamed word by word when asked to
stream. Every check is an assert; the script prints one line per group and exits non-zero on
the first failure, with the traceback.
"""

import sys

import openai

BASE = sys.argv[1]
client = openai.OpenAI(base_url=BASE, api_key="sk-test", max_retries=0, timeout=30.0)
checks = 0


def check(cond, what):
    global checks
    assert cond, what
    checks += 1


def user(text):
    return [{"role": "user", "content": text}]


def expect_decision_headers(headers, route, backend, signal):
    check(headers.get("x-routerc-route") == route, f"route header: {dict(headers)}")
    check(headers.get("x-routerc-backend") == backend, f"backend header: {dict(headers)}")
    signals = headers.get("x-routerc-signals", "").split(",")
    check(signal in signals, f"signals header {signals} lacks {signal}")
    ns = headers.get("x-routerc-decision-ns", "")
    check(ns.isdigit(), f"decision-ns header {ns!r}")


# 1. Non-streaming, model "auto": the policy routes coding to `a` with its system prompt.
raw = client.chat.completions.with_raw_response.create(
    model="auto",
    messages=[
        {"role": "system", "content": "client prompt"},
        {"role": "user", "content": "Write some Rust please"},
    ],
)
check(raw.status_code == 200, f"status {raw.status_code}")
expect_decision_headers(raw.headers, "coding", "a", "code")
completion = raw.parse()
check(isinstance(completion, openai.types.chat.ChatCompletion), type(completion))
check(
    completion.choices[0].message.content
    == "a|model-a|You write careful code.|Write some Rust please",
    completion.choices[0].message.content,
)
check(completion.choices[0].finish_reason == "stop", completion.choices[0].finish_reason)
check(completion.model == "model-a", completion.model)
check(completion.usage is not None and completion.usage.total_tokens == 7, completion.usage)
print("non-streaming auto: ok")

# 2. Non-streaming, a concrete model: passed through to its backend, no route ran.
raw = client.chat.completions.with_raw_response.create(model="model-b", messages=user("hello"))
check(raw.headers.get("x-routerc-backend") == "b", dict(raw.headers))
check("x-routerc-route" not in raw.headers, dict(raw.headers))
completion = raw.parse()
check(completion.choices[0].message.content == "b|model-b||hello", completion)
print("non-streaming concrete model: ok")

# 3. Streaming, model "auto": the default route to `b`, chunks reassembled in order.
raw = client.chat.completions.with_raw_response.create(
    model="auto", messages=user("tell me about the sea"), stream=True
)
expect_decision_headers(raw.headers, "default", "b", "code")
check(raw.headers.get("content-type", "").startswith("text/event-stream"), dict(raw.headers))
pieces, finish, models = [], None, set()
for chunk in raw.parse():
    check(isinstance(chunk, openai.types.chat.ChatCompletionChunk), type(chunk))
    models.add(chunk.model)
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
text = "".join(pieces)
check(text == "b|model-b|Be brief.|tell me about the sea", text)
check(len(pieces) >= 5, f"expected several content chunks, got {pieces}")
check(finish == "stop", finish)
check(models == {"model-b"}, models)
print(f"streaming auto: ok ({len(pieces)} chunks)")

# 4. Streaming, a concrete model, through the plain (not raw) API.
stream = client.chat.completions.create(model="model-a", messages=user("python?"), stream=True)
text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
check(text == "a|model-a||python?", text)
print("streaming concrete model: ok")

# 5. A reject route is the SDK's exception for its status, with routerc's message and code.
try:
    client.chat.completions.create(model="auto", messages=user("this is classified"))
    check(False, "a rejected request did not raise")
except openai.PermissionDeniedError as e:
    check(e.status_code == 403, e.status_code)
    check(e.message.startswith("Error code: 403"), e.message)
    check("classified material" in e.message, e.message)
    check(isinstance(e.body, dict) and e.body.get("message") == "classified material", e.body)
    check(e.code == "rejected_by_policy", e.code)
    check(e.type == "invalid_request_error", e.type)
    check(e.response.headers.get("x-routerc-route") == "blocked", dict(e.response.headers))
print("reject route: ok")

# The same with a status the SDK has no class of its own for: the base APIStatusError.
try:
    client.chat.completions.create(model="auto", messages=user("an embargo applies"), stream=True)
    check(False, "a rejected stream did not raise")
except openai.APIStatusError as e:
    check(type(e) is openai.APIStatusError, type(e))
    check(e.status_code == 451, e.status_code)
    check(e.body.get("message") == "embargoed", e.body)

# 6. An unknown model: NotFoundError with routerc's code.
try:
    client.chat.completions.create(model="gpt-17", messages=user("hi"))
    check(False, "an unknown model did not raise")
except openai.NotFoundError as e:
    check(e.code == "model_not_found", e.code)
    check("gpt-17" in e.message, e.message)

# A request the gateway finds malformed: BadRequestError naming the parameter.
try:
    client.chat.completions.create(model="auto", messages=[])
    check(False, "empty messages did not raise")
except openai.BadRequestError as e:
    check(e.param == "messages", e.param)
print("unknown model and bad request: ok")

# 7. An upstream that breaks mid-stream: the first chunk arrives, then routerc's error event
#    surfaces as openai.APIError carrying the message.
pieces = []
try:
    for chunk in client.chat.completions.create(
        model="auto", messages=user("hi"), stream=True, extra_headers={"x-tenant": "acme"}
    ):
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
    check(False, "a broken stream did not raise")
except openai.APIError as e:
    check(not isinstance(e, openai.APIStatusError), type(e))
    check("`dropping`" in e.message, e.message)
    check(isinstance(e.body, dict) and e.body.get("code") == "upstream_error", e.body)
check("".join(pieces).startswith("drop"), pieces)
print("broken stream: ok")

# 8. The model list.
ids = [m.id for m in client.models.list()]
check(ids[:3] == ["auto", "model-a", "model-b"], ids)
print("models: ok")

# 9. The async client: four streams at once through routerc, each reassembled on its own.
import asyncio  # noqa: E402


async def concurrent_streams():
    async with openai.AsyncOpenAI(base_url=BASE, api_key="sk-test", max_retries=0) as aclient:

        async def one(topic):
            stream = await aclient.chat.completions.create(
                model="auto", messages=user(topic), stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        topics = [f"tell me about lake number {i}" for i in range(4)]
        texts = await asyncio.gather(*(one(t) for t in topics))
        for topic, text in zip(topics, texts):
            check(text == f"b|model-b|Be brief.|{topic}", text)


asyncio.run(concurrent_streams())
print("async concurrent streams: ok")

print(f"sdk: {checks} checks passed with openai {openai.__version__}")
