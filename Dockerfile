# The application image: web (gunicorn), Celery worker and Celery beat all run
# from it with contactpoint.settings.production (see docker-compose.yml).

# --- GOV.UK Frontend from npm (the CSS, JS, fonts and images Django serves) ---
FROM node:22-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY frontend frontend
RUN npm run build:css

# --- the application ---
FROM python:3.11-slim AS app

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=contactpoint.settings.production

# The app runs as this user; beat keeps its schedule in ~/beat (a volume).
RUN useradd --system --create-home --home-dir /home/contactpoint --uid 10001 contactpoint \
    && install -d -o contactpoint -g contactpoint /home/contactpoint/beat
WORKDIR /app

# Exactly the locked versions, every one checked against its hash.
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --require-hashes --no-deps -r requirements/lock.txt

COPY --from=assets /build/node_modules/govuk-frontend node_modules/govuk-frontend
COPY --from=assets /build/build/static build/static
# Only the code: never var/ (local databases, dev.env keys), .venv or .git.
# Add new top-level apps here.
COPY manage.py ./
COPY contactpoint contactpoint
COPY accounts accounts
COPY audit audit
COPY directory directory
COPY ingestion ingestion
COPY alerts alerts
COPY templates templates
COPY static static

# Static files with hashed names (whitenoise's manifest storage), built once
# into the image. Production settings refuse to load without secrets, so this
# step gets throwaway random ones that live only for this command.
RUN key() { python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; } \
    && DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
       CP_FIELD_ENCRYPTION_KEYS="1:$(key)" \
       CP_BLIND_INDEX_KEY="$(key)" \
       CP_AUDIT_SIGNING_KEY="$(key)" \
       CP_AUDIT_CHECKPOINT_DIR=/tmp/build-checkpoints \
       DATABASE_URL="postgres://build@localhost/build" \
       REDIS_URL="redis://localhost:6379/0" \
       python manage.py collectstatic --noinput \
    && python -m compileall -q contactpoint accounts audit directory ingestion alerts

USER contactpoint
EXPOSE 8000
# WEB_CONCURRENCY (gunicorn's own variable) sets the number of workers.
CMD ["gunicorn", "contactpoint.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
