#!/usr/bin/env python3
"""Checks a merged Atom feed written by Tributary the way a reader sees it.

Usage: check_atom.py FEED.atom FEED.json

- the two RFC 4287 rules the RELAX NG grammar cannot express (checked here on the tree):
  a feed-level author unless every entry has one; every entry has an alternate link or content;
- Python feedparser parses it with bozo == 0;
- every entry's title, link, published date and source title match what Tributary itself
  exported as JSON Feed from the same store (an independent rendering of the same entries).
"""
import json
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import feedparser

A = "{http://www.w3.org/2005/Atom}"


def fail(msg):
    print(f"check_atom: FAIL: {msg}")
    sys.exit(1)


def schematron(path):
    root = ET.parse(path).getroot()
    entries = root.findall(f"{A}entry")
    if root.find(f"{A}author") is None and not all(e.find(f"{A}author") is not None for e in entries):
        fail("feed has no author and some entry has none")
    for e in entries:
        alt = [l for l in e.findall(f"{A}link") if l.get("rel", "alternate") == "alternate"]
        if not alt and e.find(f"{A}content") is None:
            fail(f"entry {e.findtext(A + 'id')} has neither an alternate link nor content")
    return len(entries)


def main():
    atom_path, json_path = sys.argv[1], sys.argv[2]
    n = schematron(atom_path)
    parsed = feedparser.parse(atom_path)
    if parsed.bozo:
        fail(f"feedparser bozo: {parsed.bozo_exception!r}")
    expected = json.load(open(json_path, encoding="utf-8"))["items"]
    if len(parsed.entries) != n or len(expected) != n:
        fail(f"entry counts differ: xml {n}, feedparser {len(parsed.entries)}, json {len(expected)}")
    for got, want in zip(parsed.entries, expected):
        if got.title != want["title"]:
            fail(f"title {got.title!r} != {want['title']!r}")
        if got.get("link") != want.get("url") and want.get("url") is not None:
            fail(f"link {got.get('link')!r} != {want.get('url')!r}")
        if got.id != want["id"]:
            fail(f"id {got.id!r} != {want['id']!r}")
        if "date_published" in want:
            ts = datetime(*got.published_parsed[:6], tzinfo=timezone.utc)
            want_ts = datetime.fromisoformat(want["date_published"].replace("Z", "+00:00"))
            if ts != want_ts:
                fail(f"published {ts} != {want_ts} for {want['title']!r}")
        src = got.get("source", {}).get("title")
        if src != want["_tributary"]["source_title"]:
            fail(f"source title {src!r} != {want['_tributary']['source_title']!r}")
    print(f"check_atom: ok: {n} entries; feedparser bozo=0; titles, links, ids, dates, sources intact")


if __name__ == "__main__":
    main()
