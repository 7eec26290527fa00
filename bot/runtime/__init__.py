"""What runs while the bot serves: the HTTP server, the deployment engine, the outbox worker,
the scheduler, background work and telemetry."""
