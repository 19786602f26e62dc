"""Writes for notifications: recording events and e-mailing them (scan), preferences,
webhooks and their deliveries."""
