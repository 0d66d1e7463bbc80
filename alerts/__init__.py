"""Conference detection, event records, watch rules, notification channels and the delivery outbox.

alerts never fetches pages: it reads archived items and writes events and deliveries through the archive.
"""
