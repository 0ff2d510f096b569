#!/usr/bin/env bash
# Unpacks Cyrus IMAP, Courier-IMAP and GNU mailutils imap4d into a private folder for the integration
# tests, next to the installed Dovecot. Their Debian packages declare `Conflicts: imap-server` (or
# provide imap-server, which dovecot-imapd conflicts with), so `apt-get install` would REMOVE
# dovecot-imapd: instead we `apt-get download` them (plus the libraries they need that are not
# installed) and `dpkg-deb -x` them into $MAILKEEP_TEST_SERVERS/{cyrus,courier,imap4d}. Nothing is
# installed system-wide and no service is started. Idempotent: a second run with the same package
# versions only re-checks that every binary finds its libraries. Run as root.
# The tests (test/support/cyrus.ts, courier.ts, imap4d.ts) find the servers in the same folder.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
DEST=${MAILKEEP_TEST_SERVERS:-/opt/mailkeep-test-servers}
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

# server -> packages to unpack (their not-installed library dependencies are added below).
# gamin: without its gam_server, every Courier imapd session waits ~1.3 s for it at login.
declare -A PKGS=(
  [cyrus]="cyrus-imapd cyrus-common sasl2-bin"
  [courier]="courier-imap courier-base courier-authlib courier-authlib-userdb courier-authdaemon gamin"
  [imap4d]="mailutils-imap4d mailutils-common"
)
# server -> binaries that must start (checked with ldd after unpacking)
declare -A BINS=(
  [cyrus]="usr/lib/cyrus/bin/master usr/lib/cyrus/bin/imapd usr/lib/cyrus/bin/ctl_cyrusdb usr/sbin/saslpasswd2"
  [courier]="usr/sbin/couriertcpd usr/lib/courier/courier/imaplogin usr/bin/imapd usr/lib/courier/courier-authlib/authdaemond usr/lib/courier-authlib/libauthuserdb.so usr/sbin/makeuserdb usr/sbin/userdb usr/bin/maildirmake.courier usr/libexec/gam_server"
  [imap4d]="usr/sbin/imap4d usr/lib/$MULTIARCH/libmu_maildir.so.9 usr/lib/$MULTIARCH/libmu_auth.so.9"
)

[ "$(id -u)" = 0 ] || { echo "install-imap-servers.sh: run as root (apt-get download, unpacking into $DEST)" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The package lists may be missing on a fresh machine: fetch them once if apt does not know a package.
apt-cache show cyrus-imapd courier-imap mailutils-imap4d >/dev/null 2>&1 || apt-get update -qq

# Adds the not-installed library packages (lib*) that $@ depend on, recursively. Non-library
# dependencies (adduser, an MTA, debconf, gamin, perl) are only needed by the packages' scripts and
# services, which we never run.
closure() {
  local -A seen=()
  local queue=("$@") p d
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}; queue=("${queue[@]:1}")
    [ -n "${seen[$p]:-}" ] && continue
    seen[$p]=1
    echo "$p"
    for d in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$p" 2>/dev/null \
      | awk '# a virtual library (<libfam0>) is taken from its first provider, on the next indented line
             virt && $1 !~ /:$/ { print $1; virt = 0; next }
             { virt = 0 }
             ($1 == "Depends:" || $1 == "PreDepends:") && $2 ~ /^<lib/ { virt = 1; next }
             $1 == "Depends:" || $1 == "PreDepends:" { print $2 }' | grep '^lib' | sort -u); do
      installed "$d" || queue+=("$d")
    done
  done
}

check_libs() { # server dir -> prints "binary: missing lib" lines
  local server=$1 dir=$2 b
  # the same folders, in the same order, as libraryPath() in test/support/unpacked-server.ts
  local ldp="$dir/usr/lib/$MULTIARCH:$dir/lib/$MULTIARCH:$dir/usr/lib:$dir/usr/lib/courier-authlib"
  for b in ${BINS[$server]}; do
    [ -e "$dir/$b" ] || { echo "$b: not unpacked"; continue; }
    LD_LIBRARY_PATH=$ldp ldd "$dir/$b" 2>&1 | awk -v b="$b" '/not found/ { print b ": " $1 " not found" }'
  done
}

mkdir -p "$DEST/.debs"
# apt's download sandbox user must be able to write there
if id _apt >/dev/null 2>&1; then chown _apt "$DEST/.debs"; fi

for server in cyrus courier imap4d; do
  dir="$DEST/$server"
  # Fast path (resolving the library closure takes about a minute): same candidate versions of the
  # named packages as last time, and every binary still finds its libraries.
  top=$(apt-cache policy ${PKGS[$server]} | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p $2 }')
  if [ -f "$dir/.top" ] && [ "$(cat "$dir/.top")" = "$top" ] && [ -z "$(check_libs "$server" "$dir")" ]; then
    echo "$server: up to date in $dir"
    continue
  fi
  mapfile -t want < <(closure ${PKGS[$server]} | sort -u)
  # name=version of each package: the stamp that makes a rerun a no-op
  stamp=$(for p in "${want[@]}"; do echo "$p=$(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')"; done)
  if [ -f "$dir/.packages" ] && [ "$(cat "$dir/.packages")" = "$stamp" ] && [ -z "$(check_libs "$server" "$dir")" ]; then
    echo "$top" >"$dir/.top"
    echo "$server: up to date in $dir"
    continue
  fi
  echo "$server: unpacking ${want[*]} into $dir"
  (cd "$DEST/.debs" && { apt-get download -qq "${want[@]}" || { apt-get update -qq && apt-get download -qq "${want[@]}"; }; })
  rm -rf "$dir.new"
  mkdir -p "$dir.new"
  for p in "${want[@]}"; do
    v=$(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')
    deb=$(ls "$DEST/.debs/${p}_${v//:/%3a}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "install-imap-servers.sh: no .deb for $p $v in $DEST/.debs" >&2; exit 1; }
    dpkg-deb -x "$deb" "$dir.new"
  done
  echo "$stamp" >"$dir.new/.packages"
  echo "$top" >"$dir.new/.top"
  missing=$(check_libs "$server" "$dir.new")
  if [ -n "$missing" ]; then
    echo "install-imap-servers.sh: $server binaries miss libraries:" >&2
    echo "$missing" >&2
    exit 1
  fi
  rm -rf "$dir"
  mv "$dir.new" "$dir"
done
# Stale downloads of other versions would only take space.
find "$DEST/.debs" -name '*.deb' -mtime +30 -delete
echo "IMAP test servers ready in $DEST"
