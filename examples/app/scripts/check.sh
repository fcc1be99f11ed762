#!/bin/sh
set -e
curl -fsS http://localhost/ >/dev/null
