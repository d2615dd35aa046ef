#!/usr/bin/env bash
# env.sh: send the program's environment, sorted, one VAR=value per message,
# then exit 0. Shows the CGI variables wsexec sets (REMOTE_ADDR, QUERY_STRING,
# HTTP_USER_AGENT, SCRIPT_NAME, PATH_INFO, ...).
#
# Run:  bin/wsexec --port=8080 --devconsole examples/bash/env.sh
#       then open http://localhost:8080/some/path?x=1

env | LC_ALL=C sort
