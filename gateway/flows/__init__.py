"""Domain actions that cross tickets and links: handoff, mirroring, relays, status, ratings, rejections."""
