# portaladmin image: one image for web (gunicorn), worker and beat.
FROM python:3.13-slim

# Production by default: a bare `docker run` must never fall back to development mode (sandbox, http and
# private-network portals, the committed development keys). Without SECRET_KEY and
# PORTALADMIN_KEY_ENCRYPTION_KEYS the container refuses to start; DEBUG=True must be asked for explicitly.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=portaladmin.settings PORTALADMIN_VAR_DIR=/var/lib/portaladmin \
    PORTALADMIN_DEV_DEFAULTS=False DEBUG=False

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/portaladmin portaladmin \
 && mkdir -p /var/lib/portaladmin && chown portaladmin /var/lib/portaladmin

COPY pyproject.toml manage.py ./
COPY portaladmin ./portaladmin
COPY templates ./templates
COPY static ./static
# Editable install: the code runs from /app, next to templates/ and static/.
RUN pip install --no-cache-dir -e .
# Collect (and fingerprint) static files with throwaway build-time secrets; real ones come at run time.
RUN SECRET_KEY=build-only-not-a-secret ALLOWED_HOSTS=localhost \
    PORTALADMIN_KEY_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput \
 && chown -R portaladmin /var/lib/portaladmin

USER portaladmin
EXPOSE 8000
CMD ["gunicorn", "portaladmin.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
