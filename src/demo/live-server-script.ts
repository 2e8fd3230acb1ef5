/**
 * A stand-in for a CoreMedia Live Server's init script (start | stop | status), for the demo fleet
 * and the tests: start and stop take ~300 ms to really happen, as a real server's would take longer
 * than the command that asks for it. The "server" is a sleeping process with a pid file.
 */
export const LIVE_SERVER_SCRIPT = `#!/bin/bash
dir=$(cd "$(dirname "$0")" && pwd)
pidfile="$dir/live-server.pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
  start)
    if running; then echo "already running"; exit 0; fi
    ( sleep 0.3; nohup sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > "$pidfile" ) >/dev/null 2>&1 </dev/null &
    echo "starting"; exit 0 ;;
  stop)
    if [ -f "$dir/ignore-stop" ]; then echo "stop requested"; exit 0; fi
    if ! running; then echo "not running"; exit 0; fi
    pid=$(cat "$pidfile")
    ( sleep 0.3; kill "$pid"; rm -f "$pidfile" ) >/dev/null 2>&1 </dev/null &
    echo "stopping"; exit 0 ;;
  status)
    if running; then echo "running (pid $(cat "$pidfile"))"; exit 0; fi
    echo "stopped"; exit 3 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
`;
