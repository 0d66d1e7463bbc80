"""Scheduling crawls (APScheduler): which source is due, no overlap, one leader. Not built yet."""
