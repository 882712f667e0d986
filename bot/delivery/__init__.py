"""What the gateway sends on its own initiative: the outbox worker (bot/delivery/outbox.py)."""
