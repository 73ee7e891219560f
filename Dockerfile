# One image for every service. Compose (or a cluster manifest) picks the process per container:
#   python -m gateway | members | loyalty | credit | notify
#   python -m devstack.smssim --host 0.0.0.0 --port 8009   (SMS provider simulator)
#   python -m devstack topics                              (one-shot: create the Kafka topics)
# Everything else comes from environment variables (see each service's config.py).
FROM python:3.11-slim

# UV_COMPILE_BYTECODE: compile the dependencies' .pyc at build time (the runtime user cannot write
# into /app); the project's own sources are compiled after they are copied, below.
# UV_PYTHON_DOWNLOADS=never: use this image's Python 3.11, never a downloaded interpreter.
ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# The same uv that wrote uv.lock.
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when the lock changes, not on every code edit.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# The project itself. pyproject.toml maps these folders to the importable packages
# (vipcore, the five services, devstack, benchkit); programs/ holds the loyalty program files.
COPY shared/ shared/
COPY services/ services/
COPY deploy/devstack/ deploy/devstack/
COPY bench/ bench/
COPY programs/ programs/
RUN uv sync --frozen --no-dev \
 && python -m compileall -q shared services deploy/devstack bench

ENV PATH="/app/.venv/bin:$PATH"

# Run as an unprivileged user; the code and the venv stay owned by root (read-only to the process).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER app

# gateway, members, loyalty, credit, notify, SMS simulator
EXPOSE 8000 8001 8002 8003 8004 8009
