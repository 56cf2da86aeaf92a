"""Outcomes brought in by the office of institutional research: named measures (a well-being
index, a first-choice match, scholarly products), a term's values per person from a CSV or XLSX
file, compared in the report across who took part in which track. Deans and admins only."""
