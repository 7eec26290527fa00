"""Slack itself: the app manifest, the directory of users, channels and groups, and the ids of
the bot's buttons and dialogs."""
