"""Slack itself: the app manifest, the Web API clients, the directory of users, channels and
groups, and the ids of the bot's buttons and dialogs."""
