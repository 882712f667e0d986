"""The Werkmaatje gateway: channels in, Rasa in the middle, replies out."""

import os

# Opt in to python-telegram-bot's coming behaviour (durations as timedelta) before it is
# imported anywhere in the gateway; without it every 429 from Telegram also emits a
# deprecation warning from inside PTB's own RetryAfter.
os.environ.setdefault("PTB_TIMEDELTA", "true")
