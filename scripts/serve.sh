#!/usr/bin/env bash
# Serve Doorstep with gunicorn and run the background-task worker beside it. Stopping
# this script (Ctrl-C) stops both.
set -euo pipefail
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
mkdir -p var
"$BIN/python" manage.py db_worker --interval 2 >> var/worker.log 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo
echo "Doorstep is running at http://127.0.0.1:${PORT}/   (console: /console/, admin: /admin/, API docs: /api/docs/)"
echo "Demo accounts and their passwords: var/demo-credentials.txt  (background worker log: var/worker.log)"
echo
"$BIN/gunicorn" config.wsgi:application --config config/gunicorn.py --bind "127.0.0.1:${PORT}"
