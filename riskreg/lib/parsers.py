"""The JSON parser, hardened against a body DRF's own turns into a 500."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # json.loads raises RecursionError, not ValueError, for deeply nested input.
            raise ParseError("JSON parse error - nested too deeply.") from exc
