# The project's own code: the gateway (bot) and the action server (actions) run from this image.
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements/project.lock requirements/project.lock
RUN pip install --no-deps -r requirements/project.lock

COPY pyproject.toml README.md ./
COPY bot bot
COPY actions actions
COPY store store
# The intake reads the place and sector lookups of the training data (actions/intake_words.py).
COPY nlu/lookups.yml nlu/lookups.yml
RUN pip install --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 werkmaatje
USER werkmaatje

EXPOSE 8080 5055
CMD ["werkmaatje", "gateway"]
