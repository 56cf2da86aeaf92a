"""Programs, the memberships that give people their roles, terms and cohorts."""
