"""Conference detection, event records and notification channels. Not built yet."""
