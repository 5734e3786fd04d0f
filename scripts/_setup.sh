# shellcheck shell=bash
# Shared setup for scripts/demo, scripts/test and scripts/bench: source it, don't run it.
#
# 1. System packages: installs APT_PACKAGES with apt-get when something they provide is
#    missing (as root), or says what to install and exits 1 (not root).
# 2. Python: creates .venv and runs `pip install -e '.[test,neural,cluster,proof,deploy]'` into it, again only when
#    pyproject.toml changed since the last install (hash stamp in .venv/).
#
# Leaves the caller in the repository root with `set -euo pipefail` in force.

set -euo pipefail

AUDIOBOOK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$AUDIOBOOK_ROOT"

# Debian packages the tool needs; scripts/test adds the ones only its tests need
# (by setting AUDIOBOOK_TEST_PACKAGES=1 before sourcing this). Add new ones here.
APT_PACKAGES=(espeak-ng ffmpeg)
if [[ "${AUDIOBOOK_TEST_PACKAGES:-}" == 1 ]]; then
    APT_PACKAGES+=(chromium)  # headless browser for the web page tests
fi

# What must be on the machine once a package is installed ("cmd:NAME" is a command on
# PATH, "lib:NAME" a shared library). A package without an entry here is checked with
# dpkg-query.
declare -A APT_PROVIDES=(
    [espeak-ng]="cmd:espeak-ng lib:libespeak-ng.so.1"
    [ffmpeg]="cmd:ffmpeg cmd:ffprobe"
    [chromium]="cmd:chromium"
)

VENV_DIR="$AUDIOBOOK_ROOT/.venv"
VENV_STAMP="$VENV_DIR/.audiobook-install-stamp"

setup_say() { printf '[setup] %s\n' "$*" >&2; }

setup_has_lib() {
    local name="$1" dir
    if PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null | awk '{print $1}' | grep -xF "$name" >/dev/null; then
        return 0
    fi
    for dir in /usr/lib /usr/lib/*-linux-gnu /usr/local/lib /lib /lib/*-linux-gnu; do
        [[ -e "$dir/$name" ]] && return 0
    done
    return 1
}

setup_package_present() {
    local pkg="$1" probe
    if [[ -n "${APT_PROVIDES[$pkg]:-}" ]]; then
        for probe in ${APT_PROVIDES[$pkg]}; do
            case "$probe" in
                cmd:*) command -v "${probe#cmd:}" >/dev/null 2>&1 || return 1 ;;
                lib:*) setup_has_lib "${probe#lib:}" || return 1 ;;
            esac
        done
        return 0
    fi
    if command -v dpkg-query >/dev/null 2>&1; then
        [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" == installed ]]
    else
        command -v "$pkg" >/dev/null 2>&1
    fi
}

setup_system_packages() {
    local pkg missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        setup_package_present "$pkg" || missing+=("$pkg")
    done
    # python3 -m venv needs ensurepip, which Debian ships separately.
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        setup_say "system packages present: ${APT_PACKAGES[*]}"
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        printf 'audiobook needs these system packages: %s (on Debian/Ubuntu: sudo apt-get install %s)\n' \
            "${missing[*]}" "${missing[*]}" >&2
        exit 1
    fi
    setup_say "installing system packages: ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    for pkg in "${APT_PACKAGES[@]}"; do
        if ! setup_package_present "$pkg"; then
            printf 'audiobook setup: %s is still missing after apt-get install\n' "$pkg" >&2
            exit 1
        fi
    done
}

setup_venv() {
    local want have=""
    if [[ -x "$VENV_DIR/bin/python" ]] && ! "$VENV_DIR/bin/python" -c '' >/dev/null 2>&1; then
        setup_say "removing broken .venv (its python no longer runs)"
        rm -rf "$VENV_DIR"
    fi
    if [[ ! -x "$VENV_DIR/bin/python" ]]; then
        setup_say "creating .venv"
        python3 -m venv "$VENV_DIR"
    fi
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    [[ -f "$VENV_STAMP" ]] && have="$(cat "$VENV_STAMP")"
    if [[ "$want" == "$have" ]]; then
        setup_say ".venv up to date"
        return 0
    fi
    setup_say "installing audiobook with its test, neural, cluster, proof and deploy extras into .venv (pip install -e '.[test,neural,cluster,proof,deploy]')"
    rm -f "$VENV_STAMP"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$VENV_DIR/bin/python" -m pip install -q -e '.[test,neural,cluster,proof,deploy]'
    printf '%s\n' "$want" >"$VENV_STAMP"
}

setup_system_packages
setup_venv
