"""relaydesk storage package."""
