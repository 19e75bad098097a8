"""Drives keyrelay's /v1/chat/completions with the official OpenAI Python SDK:
a whole and a streamed completion (with the usage chunk), a tool round trip
whole and streamed (the SDK's own stream helper accumulates the tool call),
the model list, and an error. Exits non-zero with a message on any
malformed answer."""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
native = sys.argv[3:] == ["native"]
client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="test-client-token", max_retries=0)
hello = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello"}]
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
question = [{"role": "user", "content": "What is the weather in Paris?"}]
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


whole = client.chat.completions.create(model=model, messages=hello, max_completion_tokens=64)
check(whole.object == "chat.completion" and whole.id.startswith("chatcmpl-"), f"a chat.completion: {whole}")
# A translated answer names the model the client asked for; a native one
# comes back as the provider wrote it, naming the provider's model.
expected = model.split("@", 1)[-1] if native else model
check(whole.model == expected, f"the model {expected}, got {whole.model}")
choice = whole.choices[0]
check(choice.message.role == "assistant" and choice.message.content, f"text content: {choice}")
check(choice.finish_reason == "stop", f"stop, got {choice.finish_reason}")
usage = whole.usage
check(usage.prompt_tokens > 0 and usage.completion_tokens > 0, f"usage: {usage}")
check(usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, f"total: {usage}")
report["whole"] = choice.message.content

chunks = list(client.chat.completions.create(
    model=model, messages=hello, stream=True, stream_options={"include_usage": True}))
check(chunks[0].choices[0].delta.role == "assistant", f"role chunk first: {chunks[0]}")
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check(text == report["whole"], f"the streamed text equals the whole text: {text!r}")
finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check(finishes == ["stop"], f"one finish_reason: {finishes}")
check(not chunks[-1].choices and chunks[-1].usage and chunks[-1].usage.total_tokens > 0,
      f"the usage chunk last: {chunks[-1]}")
report["stream_chunks"] = len(chunks)

for streamed in (False, True):
    if streamed:
        with client.chat.completions.stream(model=model, messages=question, tools=tools) as stream:
            for _ in stream:
                pass
            first = stream.get_final_completion()
    else:
        first = client.chat.completions.create(model=model, messages=question, tools=tools)
    choice = first.choices[0]
    check(choice.finish_reason == "tool_calls", f"tool_calls finish, got {choice.finish_reason}")
    calls = choice.message.tool_calls or []
    check(len(calls) == 1 and calls[0].function.name == "get_weather", f"one get_weather call: {calls}")
    check(json.loads(calls[0].function.arguments) == {"city": "Paris"}, f"arguments: {calls[0].function.arguments}")
    follow_up = question + [
        {"role": "assistant", "content": choice.message.content,
         "tool_calls": [call.model_dump(include={"id", "type", "function"}) for call in calls]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny, 21 C"},
    ]
    answer = client.chat.completions.create(model=model, messages=follow_up, tools=tools)
    text = answer.choices[0].message.content or ""
    check("sunny" in text, f"the answer uses the tool result: {text!r}")
    report["tool_stream" if streamed else "tool_whole"] = text

listed = client.models.list()
ids = [m.id for m in listed.data]
check("fast" in ids and all(m.object == "model" and m.owned_by for m in listed.data), f"model list: {listed}")
report["models"] = ids

try:
    client.chat.completions.create(model="nowhere@model-x", messages=hello)
    check(False, "an unknown provider is an error")
except openai.BadRequestError as error:
    check("unknown provider" in error.message, f"the error's message: {error.message}")
    check(error.body and error.body.get("type") == "invalid_request_error", f"the error object: {error.body}")

print(json.dumps(report))
