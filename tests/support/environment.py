"""Whether the tests run in CI, and what a test does when something it needs is missing."""

from __future__ import annotations

import os

import pytest

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
WEBHOOK_SECRET = "test-webhook-secret_123"


def require(reason: str | None) -> None:
    """Skip when something the test needs is missing; in CI that is a failure instead."""
    if reason is None:
        return
    if CI:
        pytest.fail(f"{reason} (CI=true: missing services fail the run)")
    pytest.skip(reason)
