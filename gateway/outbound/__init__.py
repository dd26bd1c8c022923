"""What leaves and how: composing mail, the outbox, notices, the loop guard, delivery and its transports."""
