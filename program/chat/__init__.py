"""Button presses in a chat tool: a person acting on a card the outbox posted (see
`program.messages.cards` and `program.messages.chat`)."""
