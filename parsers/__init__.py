"""Pure parsing of inbound mail: raw bytes in, a ParsedMessage out.

No database, no network, no exceptions on bad input: problems are recorded
in `ParsedMessage.problems`.

`parse_message` is imported on first use: code that only reads results
(the CLI's views, storage) should not pay for compiling the parser's
patterns and loading the HTML parser.
"""

from typing import Any

from parsers.message import ParsedMessage, ParseOptions

__all__ = ["ParseOptions", "ParsedMessage", "parse_message"]


def __getattr__(name: str) -> Any:
    if name == "parse_message":
        from parsers.parse import parse_message

        return parse_message
    raise AttributeError(f"module 'parsers' has no attribute {name!r}")
