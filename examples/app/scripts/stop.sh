#!/bin/sh
systemctl stop myapp || true
