# Sourced by scripts/setup.sh and scripts/setup_vllm.sh: one console line per set-up stage, its output in $log.
#   step MESSAGE COMMAND...   (uses $log and $step_prefix, e.g. "setup")
step() {
  local message="$1" t0 rc
  shift
  t0=$(date +%s)
  printf '%s: %s ... ' "$step_prefix" "$message"
  if "$@" >>"$log" 2>&1; then
    echo "ok ($(( $(date +%s) - t0 )) s)"
  else
    rc=$?
    echo "failed"
    echo "$step_prefix: last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit "$rc"
  fi
}
