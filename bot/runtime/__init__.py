"""What runs while the bot serves: the deployment engine, the outbox worker, the scheduler,
background work, the event bus, pacing and telemetry."""
