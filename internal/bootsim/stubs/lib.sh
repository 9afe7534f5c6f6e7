# Sourced by every stub: record the call, and ask whether a failure mode is on.
# BOOTSIM_LOG    the call log, one "name args..." line per call
# BOOTSIM_STATE  what the stubs remember between calls: systemd/ (units; loaded/ the unit files systemd
#                loaded), images/ (pulled images), once.* (counters)
# BOOTSIM_FAIL   the failure modes on, space-separated (see bootsim.go)
# BOOTSIM_STUBS  this directory; BOOTSIM_INSTALLED the directory on PATH where "installed" commands go
record() { printf '%s\n' "$*" >>"$BOOTSIM_LOG"; }
fails() { case " ${BOOTSIM_FAIL:-} " in *" $1 "*) return 0 ;; esac; return 1; }
# once NAME: true the first time it is asked for NAME, false afterwards.
once() {
  [ -e "$BOOTSIM_STATE/once.$1" ] && return 1
  : >"$BOOTSIM_STATE/once.$1"
}
# image_key IMAGE: a file name for an image reference.
image_key() { printf '%s' "$1" | tr '/:@' '___'; }
