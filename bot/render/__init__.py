"""The one renderer: Block Kit messages, views and plain-text fallbacks, pure functions of data."""
