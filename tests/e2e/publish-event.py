"""Commits one public event to a vsys SQLite outbox from outside the server, as another
instance would, for the playground's end-to-end check.

    python3 tests/e2e/publish-event.py path/to/vsys.db
"""
import datetime
import json
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
(seq,) = db.execute(
    "UPDATE event_sequence SET last_value = last_value + 1 WHERE id = 1 RETURNING last_value"
).fetchone()
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
db.execute(
    "INSERT INTO events (seq, topic, visibility, organization_id, payload, occurred_at) "
    "VALUES (?, 'e2e.ping', 'PUBLIC', NULL, ?, ?)",
    (seq, json.dumps({"note": "from-the-browser-test"}), now),
)
db.execute("COMMIT")
print(f"committed event {seq}")
