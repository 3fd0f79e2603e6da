"""TokenDice: a desktop playground that shows how GGUF language models generate, token by token."""

__version__ = "0.1.0"
APP_NAME = "TokenDice"
