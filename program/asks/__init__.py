"""Chats people start themselves: who is open to being asked, the directory, asks and answers,
referrals, and guests from outside the institution."""
