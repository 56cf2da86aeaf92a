"""People: one account per e-mail address, with department, career stage and interests."""
