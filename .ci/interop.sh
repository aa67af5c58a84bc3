#!/usr/bin/env bash
# Reader interop against Tributary's live server, started from the demo fixtures.
#
# Every Atom document the server publishes (/feed.atom, /feeds/all.atom, a tag filter, a
# full-text search, a page of ?limit=5 and its rel="next" page, /digest.atom when it exists)
# must validate against RFC 4287's RELAX NG grammar with jing, hold the two Schematron rules,
# and parse in Python feedparser with bozo == 0 and the exact titles, links, ids, dates and
# source titles of the JSON Feed of the same selection (.ci/check_atom.py). Then newsboat
# subscribes to /feed.atom and must store every entry (its cache is read with sqlite3).
#
# Usage: bash .ci/interop.sh  (from the repository root or anywhere; ../shared beside it)
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/tributary
schema=../shared/corpus/schemas/atom.rnc
out=target/interop-demo

say() { printf 'interop: %s\n' "$*"; }
die() { printf 'interop: FAIL: %s\n' "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------
need_apt=()
command -v jing >/dev/null 2>&1 || need_apt+=(jing)
command -v newsboat >/dev/null 2>&1 || need_apt+=(newsboat)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if ((${#need_apt[@]})); then
  say "installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -c 'import feedparser' 2>/dev/null || python3 -m pip install -q feedparser
[ -f "$schema" ] || die "no $schema (../shared must sit beside the repository)"
[ -x "$bin" ] || cargo build --release --locked -q

# --- the live server ---------------------------------------------------------------------------
work=$(mktemp -d)
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ]; then
    kill "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

rm -rf "$out"
"$bin" demo --out-dir "$out" >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!

base=""
for _ in $(seq 1 300); do
  base=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*/feed\.atom' "$work/demo.out" 2>/dev/null || true)
  [ -n "$base" ] && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.out" "$work/demo.err" >&2; die "the demo exited"; }
  sleep 0.2
done
[ -n "$base" ] || { cat "$work/demo.out" "$work/demo.err" >&2; die "the demo printed no feed URL"; }
base=${base%/feed.atom}
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
[ "$(curl -fsS "$base/healthz")" = "ok" ] || die "$base/healthz does not answer ok"
say "server at $base"

fetch() { # URL FILE: a 200 answer's body into FILE
  local code
  code=$(curl -sS -o "$2" -w '%{http_code}' "$1")
  [ "$code" = 200 ] || die "$1 answered $code"
}

# --- every served Atom document ----------------------------------------------------------------
n=0
checked=()
check_doc() { # PATH_AND_QUERY JSON_PATH_AND_QUERY
  n=$((n + 1))
  local atom="$work/doc$n.atom" json="$work/doc$n.json" entries
  fetch "$base$1" "$atom"
  entries=$(grep -c '<entry>' "$atom" || true)
  [ "$entries" -gt 0 ] || die "$1 holds no entry"
  jing -c "$schema" "$atom" >"$work/jing.out" 2>&1 || {
    cat "$work/jing.out" >&2
    die "$1 is not valid RFC 4287 (jing)"
  }
  fetch "$base$2" "$json"
  python3 .ci/check_atom.py "$atom" "$json" >"$work/check.out" || {
    cat "$work/check.out" >&2
    die "$1 fails the reader checks"
  }
  say "ok $1: jing valid; $(sed 's/^check_atom: ok: //' "$work/check.out")"
  checked+=("$1")
}

check_doc /feed.atom /feeds/all.json
check_doc /feeds/all.atom /feeds/all.json
check_doc '/feeds/all.atom?tag=caucasus' '/feeds/all.json?tag=caucasus'
check_doc '/feeds/all.atom?q=Caspian' '/feeds/all.json?q=Caspian'
check_doc '/feeds/all.atom?q=%D0%91%D0%B0%D0%BA%D1%83' '/feeds/all.json?q=%D0%91%D0%B0%D0%BA%D1%83'
check_doc '/feeds/all.atom?limit=5' '/feeds/all.json?limit=5'
next=$(python3 .ci/check_served.py next "$work/doc$n.atom")
[ -n "$next" ] || die "?limit=5 has no rel=\"next\" link"
case "$next" in "$base"/*) ;; *) die "the next link $next is not on $base" ;; esac
next_path=${next#"$base"}
check_doc "$next_path" "${next_path/.atom/.json}"
cmp -s <(python3 .ci/check_served.py entries "$work/doc$((n - 1)).atom") \
  <(python3 .ci/check_served.py entries "$work/doc$n.atom") &&
  die "the next page repeats the first"

digest_code=$(curl -sS -o "$work/digest.atom" -w '%{http_code}' "$base/digest.atom")
if [ "$digest_code" = 200 ]; then
  jing -c "$schema" "$work/digest.atom" >"$work/jing.out" 2>&1 || {
    cat "$work/jing.out" >&2
    die "/digest.atom is not valid RFC 4287 (jing)"
  }
  python3 .ci/check_served.py atom "$work/digest.atom" || die "/digest.atom fails the reader checks"
  checked+=(/digest.atom)
else
  say "skip /digest.atom: the server answers $digest_code"
fi

# --- newsboat ----------------------------------------------------------------------------------
mkdir -p "$work/home"
printf '%s\n' "$base/feed.atom" >"$work/urls"
printf 'reload-threads 1\nmax-items 0\n' >"$work/newsboat.conf"
fetch "$base/feed.atom" "$work/newsboat.atom"
HOME="$work/home" newsboat -x reload -u "$work/urls" -c "$work/cache.db" -C "$work/newsboat.conf" \
  >"$work/newsboat.out" 2>&1 || { cat "$work/newsboat.out" >&2; die "newsboat -x reload failed"; }
want=$(grep -c '<entry>' "$work/newsboat.atom")
stored=$(sqlite3 "$work/cache.db" "SELECT count(*) FROM rss_item WHERE feedurl = '$base/feed.atom' AND deleted = 0")
[ "$stored" = "$want" ] || die "newsboat stored $stored entries, /feed.atom has $want"
python3 .ci/check_served.py newsboat "$work/cache.db" "$base/feed.atom" "$work/newsboat.atom" ||
  die "newsboat's entries differ from /feed.atom"

say "${#checked[@]} served Atom documents valid (jing, Schematron, feedparser bozo=0, exact titles/links/dates/sources); newsboat stored $stored/$want entries"
