"""Drives keyrelay with the official Anthropic Python SDK: a plain message,
a streamed one, and a tool round trip (whole and streamed). Exits non-zero
with a message on any malformed answer."""
import json
import sys

import anthropic

base_url, model = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(base_url=base_url, api_key="test-client-token", max_retries=0)
hello = [{"role": "user", "content": "Say hello"}]
tools = [{
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]
question = [{"role": "user", "content": "What is the weather in Paris?"}]
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


message = client.messages.create(model=model, max_tokens=64, messages=hello)
check(message.type == "message" and message.role == "assistant", "a whole message")
check(message.id.startswith("msg_"), f"an Anthropic-style id, got {message.id}")
check(message.content and message.content[0].type == "text" and message.content[0].text, "text content")
check(message.stop_reason == "end_turn", f"end_turn, got {message.stop_reason}")
check(message.usage.input_tokens > 0 and message.usage.output_tokens > 0, "usage")
report["whole"] = message.content[0].text

with client.messages.stream(model=model, max_tokens=64, messages=hello) as stream:
    kinds = [event.type for event in stream]
    final = stream.get_final_message()
check(kinds[0] == "message_start" and kinds[-1] == "message_stop", f"stream framing: {kinds}")
check("content_block_start" in kinds and "content_block_stop" in kinds, f"blocks: {kinds}")
check(final.content[0].text == report["whole"], "the streamed text equals the whole text")
report["stream_events"] = kinds

for streamed in (False, True):
    if streamed:
        with client.messages.stream(model=model, max_tokens=64, tools=tools, messages=question) as stream:
            first = stream.get_final_message()
    else:
        first = client.messages.create(model=model, max_tokens=64, tools=tools, messages=question)
    check(first.stop_reason == "tool_use", f"tool_use stop reason, got {first.stop_reason}")
    call = [block for block in first.content if block.type == "tool_use"]
    check(len(call) == 1 and call[0].name == "get_weather", f"one get_weather call: {first.content}")
    check(call[0].input == {"city": "Paris"}, f"tool input: {call[0].input}")
    follow_up = question + [
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call[0].id, "content": "sunny, 21 C"}]},
    ]
    answer = client.messages.create(model=model, max_tokens=64, tools=tools, messages=follow_up)
    text = "".join(block.text for block in answer.content if block.type == "text")
    check("sunny" in text, f"the answer uses the tool result: {text!r}")
    report["tool_stream" if streamed else "tool_whole"] = text

print(json.dumps(report))
