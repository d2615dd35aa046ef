#!/bin/sh
# time.sh: print the time every INTERVAL seconds (default 1), formatted by
# date(1) with FORMAT (default %T, hours:minutes:seconds), one line each.
# See README.md: with --broadcast one time.sh serves every viewer.
while date "+${2:-%T}"; do sleep "${1:-1}"; done
