"""The WSGI entry point: `gunicorn wsgi:app`, or `flask --app wsgi run`."""

import gc

from program import create_app

app = create_app()

# A web process keeps large results between requests (reports, a term's judged pairs, round
# previews: program/kept.py), and Python's full garbage collections walk every object alive, so
# a page that allocates much (the matches page at 50,000 people) paid about 125 ms every sixth
# request for them. What is loaded now (modules, templates, the metadata) lives as long as the
# process: it is left out of collections for good (`gc.freeze`, before gunicorn forks), and
# collections run less often, each allocation burst being short-lived.
gc.freeze()
gc.set_threshold(50_000, 50, 100)
