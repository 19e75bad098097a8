"""Reads one streamed answer through keyrelay with an official Python SDK,
with its own stream helper, while keyrelay continues the stream on another
key after the first one broke. Arguments: keyrelay's URL, the model, and
the SDK (anthropic, openai-chat, openai-responses or genai). Exits non-zero with a message if the SDK raised
or the answer is malformed; prints a JSON report with the text."""
import json
import sys

base_url, model, sdk = sys.argv[1], sys.argv[2], sys.argv[3]
question = "Say something about a fox."
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


if sdk == "anthropic":
    import anthropic

    client = anthropic.Anthropic(base_url=base_url, api_key="test-client-token", max_retries=0)
    with client.messages.stream(
        model=model, max_tokens=256, messages=[{"role": "user", "content": question}]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    check(kinds.count("message_start") == 1, f"one message_start: {kinds}")
    check(kinds[-1] == "message_stop", f"ends with message_stop: {kinds}")
    check(final.stop_reason == "end_turn", f"end_turn: {final.stop_reason}")
    check(len(final.content) == 1 and final.content[0].type == "text", f"one text block: {final.content}")
    report["text"] = final.content[0].text
    report["input_tokens"] = final.usage.input_tokens
    report["output_tokens"] = final.usage.output_tokens
elif sdk == "openai-chat":
    import openai

    client = openai.OpenAI(base_url=base_url + "/v1", api_key="test-client-token", max_retries=0)
    with client.chat.completions.stream(
        model=model, messages=[{"role": "user", "content": question}]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0]
    check(choice.finish_reason == "stop", f"stop: {choice.finish_reason}")
    report["text"] = choice.message.content
elif sdk == "openai-responses":
    import openai

    client = openai.OpenAI(base_url=base_url + "/v1", api_key="test-client-token", max_retries=0)
    with client.responses.stream(model=model, input=question) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    check(kinds.count("response.created") == 1, f"one response.created: {kinds}")
    check(final.status == "completed", f"completed: {final.status}")
    report["text"] = final.output_text
    report["input_tokens"] = final.usage.input_tokens
elif sdk == "genai":
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="test-client-token", http_options=types.HttpOptions(base_url=base_url))
    chunks = list(client.models.generate_content_stream(model=model, contents=question))
    check(chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP, f"STOP: {chunks[-1]}")
    report["text"] = "".join(chunk.text or "" for chunk in chunks)
    report["input_tokens"] = chunks[-1].usage_metadata.prompt_token_count
else:
    check(False, f"unknown sdk {sdk}")

print(json.dumps(report))
