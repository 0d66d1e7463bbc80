"""Crawling from several hosts at once: politeness shared through Redis."""
