"""Pure parsing of inbound mail: raw bytes in, a ParsedMessage out.

No database, no network, no exceptions on bad input: problems are recorded
in `ParsedMessage.problems`.
"""

from parsers.message import ParsedMessage, ParseOptions
from parsers.parse import parse_message

__all__ = ["ParseOptions", "ParsedMessage", "parse_message"]
