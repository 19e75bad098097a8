"""Drives keyrelay's /v1/responses with the official OpenAI Python SDK: a
whole response, a streamed one through the SDK's own stream helper (text
deltas, the final response it assembles), raw streamed events, a function
call round trip whole and streamed, and previous_response_id refused
(translated) or passed on to OpenAI (native: the fake holds no response, so
OpenAI's own error comes back). Exits non-zero with a message on any
malformed answer."""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
native = sys.argv[3:] == ["native"]
client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="test-client-token", max_retries=0)
tools = [{
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]
question = [{"role": "user", "content": "What is the weather in Paris?"}]
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


whole = client.responses.create(model=model, instructions="You are terse.", input="Say hello", max_output_tokens=64)
check(whole.object == "response" and whole.id.startswith("resp_"), f"a response: {whole}")
# A translated answer names the model the client asked for; a native one
# comes back as the provider wrote it, naming the provider's model.
expected = model.split("@", 1)[-1] if native else model
check(whole.model == expected, f"the model {expected}, got {whole.model}")
check(whole.status == "completed", f"completed, got {whole.status}")
check(whole.output_text, f"text output: {whole.output}")
usage = whole.usage
check(usage.input_tokens > 0 and usage.output_tokens > 0, f"usage: {usage}")
check(usage.total_tokens == usage.input_tokens + usage.output_tokens, f"total: {usage}")
check(whole.max_output_tokens == 64 and whole.instructions == "You are terse.", f"the request echoed: {whole}")
report["whole"] = whole.output_text

deltas = []
kinds = []
with client.responses.stream(model=model, instructions="You are terse.", input="Say hello") as stream:
    for event in stream:
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
    final = stream.get_final_response()
check(kinds[0] == "response.created" and kinds[-1] == "response.completed", f"lifecycle events: {kinds}")
check(len(deltas) >= 2, f"text arrives in deltas: {deltas}")
check("".join(deltas) == final.output_text == report["whole"], f"the deltas add up: {deltas!r} / {final.output_text!r}")
report["stream_events"] = len(kinds)

raw = list(client.responses.create(model=model, input="Say hello", stream=True))
check([e.sequence_number for e in raw] == list(range(len(raw))), "sequence numbers count from 0")
check(raw[-1].type == "response.completed" and raw[-1].response.output_text == report["whole"], f"raw events: {raw[-1]}")

for streamed in (False, True):
    if streamed:
        with client.responses.stream(model=model, input=question, tools=tools) as stream:
            for _ in stream:
                pass
            first = stream.get_final_response()
    else:
        first = client.responses.create(model=model, input=question, tools=tools)
    calls = [item for item in first.output if item.type == "function_call"]
    check(len(calls) == 1 and calls[0].name == "get_weather", f"one get_weather call: {first.output}")
    check(json.loads(calls[0].arguments) == {"city": "Paris"}, f"arguments: {calls[0].arguments}")
    follow_up = question + [item.model_dump(exclude_none=True) for item in first.output] + [
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"},
    ]
    answer = client.responses.create(model=model, input=follow_up, tools=tools)
    check("sunny" in answer.output_text, f"the answer uses the tool result: {answer.output_text!r}")
    report["tool_stream" if streamed else "tool_whole"] = answer.output_text

try:
    client.responses.create(model=model, input="Go on", previous_response_id=whole.id)
    check(False, "previous_response_id is refused")
except openai.BadRequestError as error:
    if native:
        check(error.code == "previous_response_not_found", f"OpenAI's own error: {error.body}")
    else:
        check("previous_response_id" in error.message, f"the error's message: {error.message}")
    check(error.body and error.body.get("type") == "invalid_request_error", f"the error object: {error.body}")

print(json.dumps(report))
