"""`werkmaatje recruiters`: registering, listing and disabling recruiters; their login links."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import Session

from bot.cli.common import in_database, load_settings


def _split(value: str | None) -> list[str]:
    """A comma-separated option as a list; add_recruiter strips and drops blanks."""
    return (value or "").split(",")


def cmd_recruiters_add(args: argparse.Namespace) -> int:
    """Register a recruiter who receives handovers for their regions and sectors."""
    from store.recruiters import add_recruiter

    def work(session: Session) -> str:
        recruiter = add_recruiter(
            session,
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
        rows = list_recruiters(session)
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
        recruiter = disable_recruiter(session, args.id)
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
        token = issue_login_token(session, recruiter.id)
        return (
            f"Login link to the recruiter page for {recruiter.name} ({recruiter.organisation}); "
            "it replaces any earlier link, so send it to them only:\n"
            f"{base_url}/recruiter/login?token={token}"
        )

    return in_database(work)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `recruiters` command group."""
    recruiters = commands.add_parser(
        "recruiters", help="manage recruiters", description="Manage the recruiters."
    )
    recruiter_commands = recruiters.add_subparsers(
        dest="recruiters_command", required=True, metavar="COMMAND"
    )
    add = recruiter_commands.add_parser(
        "add", help="register a recruiter", description=cmd_recruiters_add.__doc__
    )
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
    add.set_defaults(func=cmd_recruiters_add)
    listing = recruiter_commands.add_parser(
        "list", help="list the recruiters", description=cmd_recruiters_list.__doc__
    )
    listing.set_defaults(func=cmd_recruiters_list)
    disable = recruiter_commands.add_parser(
        "disable", help="stop routing to a recruiter", description=cmd_recruiters_disable.__doc__
    )
    disable.add_argument("id", type=int, help="the recruiter's number from `recruiters list`")
    disable.set_defaults(func=cmd_recruiters_disable)
    link = recruiter_commands.add_parser(
        "link",
        help="print a new login link for a recruiter's page",
        description=cmd_recruiters_link.__doc__,
    )
    link.add_argument("id", type=int, help="the recruiter's number from `recruiters list`")
    link.set_defaults(func=cmd_recruiters_link)
