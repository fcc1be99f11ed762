#!/bin/sh
set -e
systemctl restart myapp
