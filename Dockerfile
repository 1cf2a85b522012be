# Sprout: the bot, its scheduler and its health check in one small image.
#   docker build -t sprout .
#   docker run --env-file .env -p 3000:3000 sprout
# Dependencies come from pyproject.toml's ranges, held to the versions CI tested by constraints.txt.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

RUN groupadd --system --gid 10001 sprout \
    && useradd --system --uid 10001 --gid sprout --create-home --home-dir /home/sprout sprout

WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE app.py config.py ./
COPY bot ./bot
COPY content_packs ./content_packs
COPY db ./db
COPY learning ./learning
COPY sandbox ./sandbox
COPY scheduler ./scheduler
RUN pip install --constraint constraints.txt . \
    && rm -rf /src

# The working folder is where a default SQLite database (sqlite:///sprout.db) and its backups live:
# mount a volume here, or set DATABASE_URL to PostgreSQL.
WORKDIR /data
RUN chown sprout:sprout /data
USER 10001:10001

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["sprout", "health"]
ENTRYPOINT ["sprout"]
CMD ["run"]
