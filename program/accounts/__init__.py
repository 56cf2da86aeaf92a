"""Accounts: signing in and out, invitations and password resets by signed, single-use links."""
