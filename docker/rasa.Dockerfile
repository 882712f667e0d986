# Rasa Open Source 3.6.21 with the model trained at build time from the repository's data.
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /app

COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install --no-deps -r requirements/rasa.lock

COPY config.yml credentials.yml endpoints.yml endpoints.compose.yml rasa-logging.yml ./
# `rasa` with the action server's responses checked by a validator built once
# (docs/decisions/0002-rasa-action-response-validation.md): the entry point takes rasa's arguments.
COPY scripts/rasa_run.py scripts/rasa_run.py
COPY domain domain
COPY nlu nlu
COPY stories stories
RUN rasa train --domain domain --data nlu stories --out models --fixed-model-name werkmaatje \
    && useradd --system --uid 10001 rasa && chown -R rasa /app
USER rasa

EXPOSE 5005
ENTRYPOINT ["python", "/app/scripts/rasa_run.py"]
CMD ["run", "--model", "models/werkmaatje.tar.gz", "--credentials", "credentials.yml", \
     "--endpoints", "endpoints.compose.yml", "--logging-config-file", "rasa-logging.yml", \
     "--interface", "0.0.0.0", "--port", "5005"]
