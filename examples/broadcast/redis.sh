#!/usr/bin/env bash
# A feed shared by several wsexec --broadcast instances through a Redis
# channel: each line a client sends is published on CHANNEL, and each
# message published on CHANNEL (by any instance, or anything else that
# publishes there) goes to every client of this instance.
#
#   wsexec --broadcast examples/broadcast/redis.sh CHANNEL [redis-cli options]
#
# The redis-cli options say where Redis is: -h HOST -p PORT, --tls, and
# so on (a password is best passed as REDISCLI_AUTH, with --passenv).
# The feed ends when its stdin closes (its last client left) or when its
# subscription does (Redis went away): then wsexec closes the clients,
# with 1011 in the second case, and the next client starts a new feed.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 CHANNEL [redis-cli options]" >&2
	exit 2
fi
chan=$1
shift

# Output: redis-cli prints each event of a subscription as three lines,
# its kind ("message" for a message), the channel and the payload.
redis-cli "$@" --raw SUBSCRIBE "$chan" > >(
	while IFS= read -r kind && IFS= read -r _ && IFS= read -r payload; do
		if [ "$kind" = message ]; then
			printf '%s\n' "$payload"
		fi
	done
) &

# quote NAME VALUE sets NAME to VALUE in double quotes, with its
# backslashes and quotes escaped: one argument for redis-cli, whatever the
# line holds.
quote() {
	local v=${2//\\/\\\\}
	printf -v "$1" '"%s"' "${v//\"/\\\"}"
}

# Input: one redis-cli for all of it, reading a PUBLISH command a line.
# A background job's stdin is /dev/null unless it says otherwise: fd 3 is
# the feed's stdin.
quote chanq "$chan"
exec 3<&0
while IFS= read -r line; do
	quote lineq "$line"
	printf 'PUBLISH %s %s\n' "$chanq" "$lineq"
done <&3 | redis-cli "$@" >/dev/null &
exec 3<&-

# Whichever ends first ends the other.
wait -n
status=$?
kill $(jobs -p) 2>/dev/null
exit $status
