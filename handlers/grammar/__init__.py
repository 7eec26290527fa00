"""The slash commands' grammar: pure parsing of command text into command dataclasses, no Slack, no I/O."""
