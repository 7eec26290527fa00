"""Use-case functions: load, call the domain, save and enqueue messages in one transaction."""
