"""The gateway's nudge module moved (bot/nudges.py to bot/delivery/nudges.py): stored nudge jobs
name their function and trigger by module path, so their pickled state is rewritten to the new
path (and back on downgrade). Without it every stored job would be unreadable after the move:
removed with an error line each and made again by the next sync.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import pickletools
import struct

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JOBS_TABLE = "apscheduler_jobs"  # created by APScheduler, not by these migrations
OLD = "bot.nudges"
NEW = "bot.delivery.nudges"


def _renamed(text: str, old: str, new: str) -> str:
    """`old.module` (or `old.module:name`) with the module renamed; anything else unchanged."""
    if text == old or text.startswith((old + ":", old + ".")):
        return new + text[len(old) :]
    return text


def _string(text: str) -> bytes:
    """A pickle opcode pushing `text` (SHORT_BINUNICODE or BINUNICODE)."""
    data = text.encode("utf-8")
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def rename_module(state: bytes, old: str, new: str) -> bytes:
    """A pickle with every string naming module `old` renamed to `new`, without unpickling it
    (that would import the module). Frames are dropped: their sizes would no longer hold, and a
    pickle without them reads the same."""
    ops = list(pickletools.genops(state))
    out = bytearray()
    for index, (opcode, arg, position) in enumerate(ops):
        end = ops[index + 1][2] if index + 1 < len(ops) else len(state)
        assert position is not None and end is not None
        if opcode.name == "FRAME":
            continue
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE") and isinstance(arg, str):
            renamed = _renamed(arg, old, new)
            if renamed != arg:
                out += _string(renamed)
                continue
        if opcode.name == "GLOBAL" and isinstance(arg, str):
            module, _, name = arg.partition(" ")
            renamed = _renamed(module, old, new)
            if renamed != module:
                out += b"c" + f"{renamed}\n{name}\n".encode()
                continue
        out += state[position:end]
    return bytes(out)


def _rewrite(old: str, new: str) -> None:
    connection = op.get_bind()
    if not sa.inspect(connection).has_table(JOBS_TABLE):
        return
    jobs = sa.table(
        JOBS_TABLE, sa.column("id", sa.Unicode), sa.column("job_state", sa.LargeBinary)
    )
    for job_id, state in connection.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        if old.encode() not in state:
            continue
        connection.execute(
            sa.update(jobs)
            .where(jobs.c.id == job_id)
            .values(job_state=rename_module(state, old, new))
        )


def upgrade() -> None:
    _rewrite(OLD, NEW)


def downgrade() -> None:
    _rewrite(NEW, OLD)
