"""The informal coffee-chat track: enrollment, rounds and the chats within them."""
