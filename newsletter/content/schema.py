"""The JSON Schema of edition.yaml, for editors' YAML plugins."""
from __future__ import annotations

from typing import Any

from newsletter.content.model import Edition

TEXT_SCHEMA = {
    "anyOf": [
        {"type": "string"},
        {"type": "object", "additionalProperties": {"type": "string"},
         "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"}},
    ],
    "description": "A text, or one text per language code: {en: ..., de: ...}",
}
INCLUDE_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "description": "A Markdown file with front matter holding the block."},
        "audience": {"type": "string"},
    },
}


def edition_schema() -> dict[str, Any]:
    schema = Edition.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Newsletter edition (edition.yaml)"
    _replace_texts(schema)
    blocks = schema["properties"]["blocks"]
    blocks["items"] = {"anyOf": [blocks["items"], INCLUDE_SCHEMA]}
    return schema


def _replace_texts(node: Any) -> None:
    """Text fields are dicts after validation but may be written as one string."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if _is_text(value):
                node[key] = {**TEXT_SCHEMA, **({"title": value["title"]} if "title" in value else {})}
            else:
                _replace_texts(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if _is_text(value):
                node[i] = dict(TEXT_SCHEMA)
            else:
                _replace_texts(value)


def _is_text(node: Any) -> bool:
    return (isinstance(node, dict) and node.get("type") == "object"
            and node.get("additionalProperties") == {"type": "string"} and "properties" not in node)
