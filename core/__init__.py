"""What every process shares: settings, logging, privacy screening, time, paths, the database.

The bottom layer: `core` imports nothing of `bot`, `actions` or `store` (checked by
import-linter in `make lint`; the contract is in pyproject.toml).
"""
