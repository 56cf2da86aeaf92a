"""Messages: the outbox every e-mail goes through, and the templates that fill it."""
