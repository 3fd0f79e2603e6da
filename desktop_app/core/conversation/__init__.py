"""The conversation: the chat tree and every operation on it, over a Backend and the chat store (no Qt)."""
