"""What the gateway sends on its own initiative: the outbox worker, the nudge scheduler, and the
periodic jobs (passing on handovers that wait too long, the daily retention run)."""
