"""Check-ins: one person's answer about one pairing for one period, shared by both tracks."""
