"""Drives keyrelay's /v1/embeddings with the official OpenAI Python SDK:
one string, a list with `dimensions`, the SDK's default base64 vectors
against explicit floats, and a refused request. Exits non-zero with a
message on any malformed answer; prints a JSON report of the vectors."""
import json
import sys

import openai
from openai import OpenAI

base_url, token, model = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=f"{base_url}/v1", api_key=token, max_retries=0)
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


one = client.embeddings.create(model=model, input="the quick brown fox")
check(len(one.data) == 1 and one.data[0].index == 0, f"one vector: {one}")
check(len(one.data[0].embedding) == 8, f"8 values: {one}")
check(one.usage.prompt_tokens > 0, f"usage: {one.usage}")
report["one"] = one.data[0].embedding

texts = ["alpha", "beta", "gamma"]
many = client.embeddings.create(model=model, input=texts, dimensions=5)
check([d.index for d in many.data] == [0, 1, 2], f"indexes: {many}")
check(all(len(d.embedding) == 5 for d in many.data), f"5 values each: {many}")
report["many"] = [d.embedding for d in many.data]

# The SDK asks for base64 unless told otherwise: the same vectors as floats.
floats = client.embeddings.create(model=model, input=texts, dimensions=5, encoding_format="float")
check([d.embedding for d in floats.data] == report["many"], f"floats equal decoded base64: {floats}")

try:
    client.embeddings.create(model=model, input=[])
    check(False, "an empty input list is refused")
except openai.BadRequestError as error:
    check("empty" in str(error), f"the refusal says why: {error}")
    report["refused"] = error.status_code

print(json.dumps(report))
