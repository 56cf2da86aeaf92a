"""A person's home page (what is theirs to do, their pairs, their mail settings) and the
coordinator's dashboard: the pages that read every domain, so they sit above them all."""
