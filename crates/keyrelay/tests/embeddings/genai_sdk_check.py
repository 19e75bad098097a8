"""Drives keyrelay's Gemini embeddings with the official google-genai
Python SDK (`embed_content`, which calls `:batchEmbedContents`): several
contents with an output dimensionality and a task type, and one content.
Exits non-zero with a message on any malformed answer; prints a JSON
report of the vectors."""
import json
import sys

from google import genai
from google.genai import types

base_url, token, model = sys.argv[1], sys.argv[2], sys.argv[3]
client = genai.Client(api_key=token, http_options=types.HttpOptions(base_url=base_url))
report = {}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


config = types.EmbedContentConfig(output_dimensionality=5, task_type="RETRIEVAL_DOCUMENT")
many = client.models.embed_content(model=model, contents=["alpha", "beta", "gamma"], config=config)
check(len(many.embeddings) == 3, f"three embeddings: {many}")
check(all(len(e.values) == 5 for e in many.embeddings), f"5 values each: {many}")
report["many"] = [e.values for e in many.embeddings]

one = client.models.embed_content(model=model, contents="the quick brown fox")
check(len(one.embeddings) == 1 and len(one.embeddings[0].values) == 8, f"one embedding of 8: {one}")
report["one"] = one.embeddings[0].values

print(json.dumps(report))
