"""Drives keyrelay's Gemini API with the official google-genai Python SDK:
a whole and a streamed answer, a function call round trip whole and
streamed (the call's id sent back on its response), count_tokens, the
model list, and an error. `native` after the model: the provider is
Gemini itself, whose answers come back as it wrote them. Exits non-zero with
a message on any malformed answer; prints a JSON report."""
import json
import sys

from google import genai
from google.genai import errors, types

base_url, token, model = sys.argv[1], sys.argv[2], sys.argv[3]
native = sys.argv[4:] == ["native"]
client = genai.Client(api_key=token, http_options=types.HttpOptions(base_url=base_url))
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


hello = types.GenerateContentConfig(system_instruction="You are terse.", max_output_tokens=64)
whole = client.models.generate_content(model=model, contents="Say hello", config=hello)
check(whole.text, f"text: {whole}")
check(whole.candidates[0].finish_reason == types.FinishReason.STOP, f"STOP: {whole}")
usage = whole.usage_metadata
check(usage.prompt_token_count > 0 and usage.candidates_token_count > 0, f"usage: {usage}")
check(usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count, f"total: {usage}")
# A translated answer names the model the client asked for; a native one
# names the provider's model, as Gemini wrote it.
expected = model.split("@", 1)[-1] if native else model
check(whole.model_version == expected, f"the model {expected}: {whole.model_version}")
report["whole"] = whole.text

chunks = list(client.models.generate_content_stream(model=model, contents="Say hello", config=hello))
text = "".join(chunk.text or "" for chunk in chunks)
check(text == report["whole"], f"the streamed text equals the whole text: {text!r}")
last = chunks[-1]
check(last.candidates[0].finish_reason == types.FinishReason.STOP, f"the last chunk ends the turn: {last}")
check(last.usage_metadata and last.usage_metadata.total_token_count > 0, f"the last chunk's usage: {last}")
report["stream_chunks"] = len(chunks)

weather = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city",
    parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]),
)])
config = types.GenerateContentConfig(
    tools=[weather],
    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
)
question = [types.Content(role="user", parts=[types.Part(text="What is the weather in Paris?")])]
for streamed in (False, True):
    if streamed:
        pieces = list(client.models.generate_content_stream(model=model, contents=question, config=config))
        calls = [call for piece in pieces for call in (piece.function_calls or [])]
        parts = [part for piece in pieces if piece.candidates and piece.candidates[0].content
                 and piece.candidates[0].content.parts for part in piece.candidates[0].content.parts]
    else:
        first = client.models.generate_content(model=model, contents=question, config=config)
        calls = first.function_calls or []
        parts = first.candidates[0].content.parts
    check(len(calls) == 1 and calls[0].name == "get_weather", f"one get_weather call: {calls}")
    check(calls[0].args == {"city": "Paris"}, f"arguments: {calls[0].args}")
    # keyrelay gives a translated call an id; Gemini 2.5 itself sends none.
    check(calls[0].id or native, f"the call has an id: {calls[0]}")
    follow_up = question + [
        types.Content(role="model", parts=parts),
        types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(
            id=calls[0].id, name="get_weather", response={"output": "sunny, 21 C"}))]),
    ]
    answer = client.models.generate_content(model=model, contents=follow_up, config=config)
    check("sunny" in (answer.text or ""), f"the answer uses the function's response: {answer.text!r}")
    report["tool_stream" if streamed else "tool_whole"] = answer.text

counted = client.models.count_tokens(model=model, contents="How many tokens is this?")
report["tokens"] = counted.total_tokens

names = [m.name for m in client.models.list()]
check("models/fast" in names, f"the model list: {names}")
report["models"] = names

try:
    client.models.generate_content(model="nowhere@model-x", contents="hi")
    check(False, "an unknown provider is an error")
except errors.ClientError as error:
    check(error.code == 400, f"400, got {error.code}")
    check("unknown provider" in (error.message or ""), f"the error's message: {error.message}")
    check(error.status == "INVALID_ARGUMENT", f"Google's status: {error.status}")

print(json.dumps(report))
