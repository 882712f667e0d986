"""`werkmaatje chat`: a conversation in the terminal, through the running gateway's web chat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def show(replies: list[dict[str, Any]], write: Callable[[str], None]) -> list[dict[str, str]]:
    """Print the bot's replies; returns the buttons offered, numbered from 1.

    A document (the data export) is saved in the current folder under its own name.
    """
    buttons: list[dict[str, str]] = []
    for reply in replies:
        if reply.get("text"):
            write(f"werkmaatje> {reply['text']}")
        document = reply.get("document")
        if isinstance(document, dict):
            path = Path(Path(str(document["filename"])).name)
            path.write_text(str(document["content"]), "utf-8")
            write(f"werkmaatje> [{path.resolve()}]")
        for button in reply.get("buttons") or []:
            buttons.append(button)
            write(f"   [{len(buttons)}] {button['title']}")
    return buttons


def chat(
    base_url: str,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    language: str = "nl",
) -> int:
    """Talk until end of input or "/quit"; a number picks one of the offered buttons."""
    write("Type a message (or a button's number); /quit or Ctrl-D to stop.")
    buttons: list[dict[str, str]] = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while True:
            try:
                line = read("jij> ").strip()
            except (EOFError, KeyboardInterrupt):
                write("")
                return 0
            if line in ("/quit", "/exit"):
                return 0
            if not line:
                continue
            body: dict[str, str] = {"text": line, "language": language}
            if line.isdigit() and 1 <= int(line) <= len(buttons):
                body = {"payload": buttons[int(line) - 1]["payload"], "language": language}
            try:
                response = client.post("/chat/messages", json=body)
            except httpx.TransportError:
                write(f"The gateway does not answer at {base_url}: start it with `make run`.")
                return 1
            data = response.json()
            if response.status_code != 200:
                write(f"! {data.get('error', response.status_code)}")
                continue
            buttons = show(data["messages"], write)
