#!/usr/bin/env python3
"""Reader-side checks on documents served by a live Tributary server.

Usage:
  check_served.py atom FEED.atom
      an Atom document that has no JSON Feed twin (the digest): the two RFC 4287 Schematron
      rules (as in check_atom.py), Python feedparser with bozo == 0, and every entry has an id,
      a title and a parseable updated date;
  check_served.py next FEED.atom
      prints the href of the feed's RFC 5005 rel="next" link (nothing when there is none);
  check_served.py entries FEED.atom
      prints one line per entry: id, title and alternate link separated by tabs, sorted;
  check_served.py newsboat CACHE.db FEED_URL FEED.atom
      newsboat's cache holds exactly the feed's entries: same count, and the same id, title and
      link for each.
"""
import os
import sqlite3
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # leave no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_atom  # noqa: E402  (the Schematron rules live there)

import feedparser  # noqa: E402

A = "{http://www.w3.org/2005/Atom}"


def fail(msg):
    print(f"check_served: FAIL: {msg}")
    sys.exit(1)


def entries(path):
    """(id, title, alternate link) of every entry, in document order."""
    root = ET.parse(path).getroot()
    out = []
    for e in root.findall(f"{A}entry"):
        link = ""
        for l in e.findall(f"{A}link"):
            if l.get("rel", "alternate") == "alternate":
                link = l.get("href", "")
                break
        out.append((e.findtext(f"{A}id") or "", e.findtext(f"{A}title") or "", link))
    return out


def check_atom_alone(path):
    n = check_atom.schematron(path)
    parsed = feedparser.parse(path)
    if parsed.bozo:
        fail(f"{path}: feedparser bozo: {parsed.bozo_exception!r}")
    if len(parsed.entries) != n:
        fail(f"{path}: feedparser read {len(parsed.entries)} of {n} entries")
    for e in parsed.entries:
        if not e.get("id") or not e.get("title") or not e.get("updated_parsed"):
            fail(f"{path}: entry without id, title or updated: {e.get('id')!r}")
    print(f"check_served: ok: {path}: {n} entries; Schematron rules hold; feedparser bozo=0")


def next_link(path):
    root = ET.parse(path).getroot()
    for l in root.findall(f"{A}link"):
        if l.get("rel") == "next":
            print(l.get("href"))
            return


def newsboat(cache, feed_url, path):
    want = sorted(entries(path))
    db = sqlite3.connect(cache)
    got = sorted(
        db.execute(
            "SELECT guid, title, url FROM rss_item WHERE feedurl = ? AND deleted = 0", (feed_url,)
        ).fetchall()
    )
    if len(got) != len(want):
        fail(f"newsboat stored {len(got)} entries of {len(want)}")
    for g, w in zip(got, want):
        if tuple(g) != w:
            fail(f"newsboat stored {tuple(g)!r}, the feed has {w!r}")
    print(f"check_served: ok: newsboat stored all {len(want)} entries with their ids, titles and links")
    return len(want)


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    cmd = sys.argv[1]
    if cmd == "atom":
        check_atom_alone(sys.argv[2])
    elif cmd == "next":
        next_link(sys.argv[2])
    elif cmd == "entries":
        for e in sorted(entries(sys.argv[2])):
            print("\t".join(e))
    elif cmd == "newsboat" and len(sys.argv) == 5:
        newsboat(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
