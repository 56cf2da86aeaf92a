"""The term survey: one short survey near each term's end, fixed wording so terms and programs
compare, answered in under a minute from an e-mail or the home page, read only as counts."""
