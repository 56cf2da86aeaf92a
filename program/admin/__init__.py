"""Administration: programs, coordinators, people, institution settings and the audit log."""
