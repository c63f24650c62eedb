"""The request bodies shown in docs/serving.md work against a server (in-process)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.anyio
DOC = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


def curl_examples() -> list[tuple[str, dict]]:
    """(path, JSON body) of every `curl ... localhost:8000/PATH ... -d '{...}'` in the page."""
    found = []
    for match in re.finditer(r"curl -s localhost:8000(\S+)[^\n]*?-d '(\{.*?\})'", DOC.read_text(), re.DOTALL):
        found.append((match.group(1), json.loads(match.group(2))))
    return found


def test_the_page_has_the_examples() -> None:
    assert {path for path, _ in curl_examples()} == {"/v2/models/cancer/infer", "/v1/models/cancer:predict"}


@pytest.mark.parametrize(("path", "body"), curl_examples())
async def test_each_curl_example_answers_200_with_version_and_ids(client, path, body) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_version"] == "1"
    ids = answer["parameters"]["prediction_ids"] if path.startswith("/v2") else answer["prediction_ids"]
    assert len(ids) == 1
