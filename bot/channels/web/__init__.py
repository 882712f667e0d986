"""The web chat: a page, and the messages of a browser session in and out."""
