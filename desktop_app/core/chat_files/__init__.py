"""Chats as files: a chat out of the store and back in, losslessly (``tokendice-chat`` JSON: json_export.py
writes it, json_import.py reads it), and as Markdown for reading (markdown_export.py)."""
