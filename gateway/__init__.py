"""relaydesk gateway package."""
