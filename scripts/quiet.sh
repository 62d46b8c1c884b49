#!/usr/bin/env bash
# Before the real-time tests: they measure "no lost sample" and need the machine to themselves.
# Prints what else runs at real-time priority (user processes; kernel threads aside) and the
# load. With CI=true it first ends what an earlier run of chronus left behind (its hosts and
# workers, tmux sessions named chronus-*, a jackd with the dummy driver): a fresh clone's CI
# owns the machine, a developer's box is only reported on.
set -uo pipefail

if [ "${CI:-}" = true ]; then
    stray=$(pgrep -f -- '__chronus-worker|chronus (run|jam|meter|mcp)|jackd .*-d dummy' || true)
    if [ -n "$stray" ]; then
        echo "chronus: ending processes an earlier run left behind:"
        ps -o pid,etime,cmd -p "$(tr '\n' ',' <<<"$stray" | sed 's/,$//')" || true
        # shellcheck disable=SC2086
        kill -KILL $stray 2>/dev/null || true
    fi
    if command -v tmux >/dev/null; then
        tmux list-sessions -F '#{session_name}' 2>/dev/null | grep '^chronus' |
            while read -r s; do tmux kill-session -t "$s" 2>/dev/null || true; done
    fi
fi

# User processes with a thread at SCHED_FIFO/SCHED_RR, once each (kernel threads have parent 2
# or are pid 2; zombies hold no CPU).
others=$(ps -eLo pid=,ppid=,stat=,cls=,rtprio=,pcpu=,etime=,args= |
    awk '($4 == "FF" || $4 == "RR") && $1 != 2 && $2 != 2 && $3 !~ /^Z/ && !seen[$1]++')
if [ -n "$others" ]; then
    echo "chronus: warning: these run at real-time priority beside the real-time tests" \
        "(they may make them miss blocks):"
    echo "   PID  PPID STAT CLS PRIO %CPU  ELAPSED COMMAND"
    echo "$others"
fi
# Time the hypervisor kept from this machine's CPUs over a second (it delays even real-time
# threads), and the load.
cpu() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $9}' /proc/stat; }
read -r total0 steal0 < <(cpu)
sleep 1
read -r total1 steal1 < <(cpu)
steal=$(awk -v t=$((total1 - total0)) -v s=$((steal1 - steal0)) 'BEGIN{printf "%.1f", t ? 100*s/t : 0}')
echo "chronus: before the real-time tests: load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "CPU time stolen by the hypervisor ${steal}%"
