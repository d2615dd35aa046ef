#!/usr/bin/env bash
# auth-token.sh: an --auth-command. It admits a client that brings the token
# in the query string (?token=...) or in a cookie (session=...), the two
# things a browser page can put on a WebSocket request, and names the user
# for the program; it refuses everyone else, with a reason for the log.
#
# Run:  AUTH_TOKEN=letmein wsexec --port=8080 --passenv=PATH,AUTH_TOKEN \
#         --auth-command=examples/bash/auth-token.sh examples/bash/env.sh
#       then connect to ws://localhost:8080/?token=letmein
#
# wsexec runs it with the environment the program would get (QUERY_STRING,
# HTTP_COOKIE, REMOTE_ADDR...), before the upgrade. Exit 0 admits, and the
# lines printed as NAME=value (REMOTE_USER, AUTH_TYPE, AUTH_*) reach the
# program; any other exit refuses with 403, or with 401 when a line
# "WWW-Authenticate: ..." is printed. The first line on stderr is logged.
# A real one would look the token up (a file, a database, an HMAC check);
# compare secrets in constant time where the language allows.

token=${AUTH_TOKEN:-letmein}

# The query string: token=VALUE among &-separated pairs.
IFS='&' read -r -a pairs <<<"$QUERY_STRING"
for pair in "${pairs[@]}"; do
	if [[ $pair == "token=$token" ]]; then
		echo "REMOTE_USER=query-user"
		echo "AUTH_TYPE=Token"
		exit 0
	fi
done

# The cookie: session=VALUE among "; "-separated pairs.
IFS=';' read -r -a cookies <<<"$HTTP_COOKIE"
for cookie in "${cookies[@]}"; do
	if [[ ${cookie# } == "session=$token" ]]; then
		echo "REMOTE_USER=cookie-user"
		echo "AUTH_TYPE=Cookie"
		echo "AUTH_ROLE=admin"
		exit 0
	fi
done

# A client that sent an Authorization header (not a browser) is told how.
if [[ -n $HTTP_AUTHORIZATION ]]; then
	echo 'WWW-Authenticate: Bearer realm="wsexec"'
	echo "a bad Authorization header from $REMOTE_ADDR" >&2
	exit 1
fi

echo "no token from $REMOTE_ADDR" >&2
exit 1
