"""Pure pairing algorithms: plain data in, plain data out; no Flask, no database."""
