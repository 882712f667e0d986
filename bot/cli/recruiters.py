"""`werkmaatje recruiters`: registering, listing and disabling recruiters; their login links."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import Session

from bot.cli.common import Commands, command, group, in_database
from core.settings import load_settings


def _split(value: str | None) -> list[str]:
    """A comma-separated option as a list; add_recruiter strips and drops blanks."""
    return (value or "").split(",")


def cmd_recruiters_add(args: argparse.Namespace) -> int:
    """Register a recruiter who receives handovers for their regions and sectors."""
    from store.recruiters import add_recruiter

    def work(session: Session) -> str:
        recruiter = add_recruiter(
            session=session,
            name=args.name,
            organisation=args.organisation,
            regions=_split(args.regions),
            sectors=_split(args.sectors),
            languages=_split(args.languages),
            telegram_chat_id=args.telegram_chat_id,
            email=args.email,
            capacity_per_week=args.capacity,
        )
        pool = "" if recruiter.regions else " (default pool: no regions)"
        return f"Added recruiter {recruiter.id}: {recruiter.name}, {recruiter.organisation}{pool}."

    return in_database(work)


def cmd_recruiters_list(args: argparse.Namespace) -> int:
    """List the recruiters with their regions, sectors, capacity and open handovers."""
    from store.recruiters import list_recruiters

    def work(session: Session) -> str:
        rows = list_recruiters(session=session)
        if not rows:
            return "No recruiters yet: add one with `werkmaatje recruiters add`."
        lines = []
        for recruiter, open_count in rows:
            reach = ", ".join(
                part
                for part in (
                    f"telegram {recruiter.telegram_chat_id}" if recruiter.telegram_chat_id else "",
                    recruiter.email or "",
                )
                if part
            )
            lines.append(
                f"{recruiter.id}\t{recruiter.name} ({recruiter.organisation})"
                f"{'' if recruiter.active else ' [disabled]'}\t"
                f"regions: {', '.join(recruiter.regions) or 'default pool'}\t"
                f"sectors: {', '.join(recruiter.sectors) or 'all'}\t"
                f"languages: {', '.join(recruiter.languages)}\t"
                f"{recruiter.capacity_per_week}/week, {open_count} open\t{reach}"
            )
        return "\n".join(lines)

    return in_database(work)


def cmd_recruiters_disable(args: argparse.Namespace) -> int:
    """Stop routing new handovers to a recruiter; their open handovers stay with them."""
    from store.recruiters import disable_recruiter

    def work(session: Session) -> str:
        recruiter = disable_recruiter(args.id, session=session)
        return f"Recruiter {recruiter.id} ({recruiter.name}) gets no new handovers."

    return in_database(work)


def cmd_recruiters_link(args: argparse.Namespace) -> int:
    """Print a new login link for a recruiter's page with their handovers; the recruiter's
    previous link stops working. Send it to the recruiter only: whoever has it is logged in."""
    from store.models import Recruiter
    from store.recruiters import issue_login_token

    base_url = load_settings().public_base_url.rstrip("/")

    def work(session: Session) -> str:
        recruiter = session.get(Recruiter, args.id)
        if recruiter is None:
            raise LookupError(f"there is no recruiter {args.id}")
        if not recruiter.active:
            raise ValueError(f"recruiter {args.id} is disabled, so a login link would not work")
        token = issue_login_token(recruiter.id, session=session)
        return (
            f"Login link to the recruiter page for {recruiter.name} ({recruiter.organisation}); "
            "it replaces any earlier link, so send it to them only:\n"
            f"{base_url}/recruiter/login?token={token}"
        )

    return in_database(work)


def add_commands(commands: Commands[argparse.ArgumentParser]) -> None:
    """The `recruiters` command group."""
    recruiter_commands = group(
        commands, "recruiters", "manage recruiters", "Manage the recruiters."
    )
    add = command(recruiter_commands, "add", cmd_recruiters_add, "register a recruiter")
    add.add_argument("--name", required=True)
    add.add_argument("--organisation", required=True)
    add.add_argument(
        "--regions", help="places and/or provinces, comma-separated; none = default pool"
    )
    add.add_argument("--sectors", help="comma-separated, e.g. zorg,logistiek; none = all")
    add.add_argument("--languages", default="nl", help="nl, en or nl,en (default nl)")
    add.add_argument("--telegram-chat-id", help="the recruiter's Telegram chat id")
    add.add_argument("--email", help="the recruiter's e-mail address")
    add.add_argument("--capacity", type=int, default=5, help="handovers per week (default 5)")
    command(recruiter_commands, "list", cmd_recruiters_list, "list the recruiters")
    disable = command(
        recruiter_commands, "disable", cmd_recruiters_disable, "stop routing to a recruiter"
    )
    disable.add_argument("id", type=int, help="the recruiter's number from `recruiters list`")
    link = command(
        recruiter_commands,
        "link",
        cmd_recruiters_link,
        "print a new login link for a recruiter's page",
    )
    link.add_argument("id", type=int, help="the recruiter's number from `recruiters list`")
