"""The pure domain core: no Slack, no database, no clock. Time is passed in."""
