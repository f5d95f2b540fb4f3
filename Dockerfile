# Wijkbot: one process; data (SQLite file, later crypto store) in the /data volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md babel.cfg ./
COPY requirements/run.lock requirements/run.lock
COPY bot bot
COPY storage storage
COPY locales locales
COPY tools tools
RUN python -m venv /opt/wijkbot \
 && /opt/wijkbot/bin/pip install --no-cache-dir --require-hashes -r requirements/run.lock \
 && /opt/wijkbot/bin/pip install --no-cache-dir --no-deps . \
 && /opt/wijkbot/bin/python tools/i18n.py compile

FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 wijkbot \
 && install -d -m 0700 -o wijkbot /data
COPY --from=build /opt/wijkbot /opt/wijkbot
COPY --from=build /src/locales /opt/wijkbot/locales
COPY wijkbot.example.toml /opt/wijkbot/wijkbot.example.toml
ENV PATH=/opt/wijkbot/bin:$PATH \
    WIJKBOT_DATA_DIR=/data \
    WIJKBOT_LOCALES_DIR=/opt/wijkbot/locales \
    PYTHONUNBUFFERED=1
USER wijkbot
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["wijkbot", "check"]
ENTRYPOINT ["wijkbot"]
CMD ["run"]
