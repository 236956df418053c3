"""Opens COUNT empty series (one new patient each) through the API and prints their ids, one per line.

Used by bench/load.sh and the reliability tests' docs: python3 bench/open_series.py BASE_URL TOKEN COUNT
"""
import http.client
import json
import sys
import threading
import urllib.parse

base, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlsplit(base)
ids = []
lock = threading.Lock()


def post(conn, path, body):
    conn.request("POST", path, json.dumps(body),
                 {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 201:
        raise SystemExit(f"POST {path}: {resp.status} {data[:200]!r}")
    return json.loads(data)


def work(start, step):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    for i in range(start, count, step):
        patient = post(conn, "/api/v1/patients", {
            "first_name": "Load", "last_name": f"Patient {i}", "date_of_birth": "1990-01-01",
            "email": f"load{i}@bench.example", "phone": None})
        series = post(conn, f"/api/v1/patients/{patient['id']}/series",
                      {"condition": "acne_scars", "planned_sessions": 3})
        with lock:
            ids.append(series["id"])


threads = [threading.Thread(target=work, args=(k, 4)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if len(ids) != count:
    raise SystemExit(f"opened {len(ids)} of {count} series")
print("\n".join(str(i) for i in sorted(ids)))
