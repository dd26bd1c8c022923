"""relaydesk bots package."""
