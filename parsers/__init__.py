"""relaydesk parsers package."""
