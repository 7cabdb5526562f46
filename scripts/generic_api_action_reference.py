# The Python reference of tests/vendor_api_action.rs: runs the Python SDK's
# GenericAPIAction (sekoia-automation-sdk 1.27.0) against a recording HTTP
# server on 127.0.0.1 with the same scenarios, and prints each request the
# vendor received (method, target, headers set by the action, body), the
# results, the error and the logs. The Rust test's expected bytes are these.
#
#   python3 -m venv /tmp/ref && /tmp/ref/bin/pip install sekoia-automation-sdk==1.27.0
#   /tmp/ref/bin/python scripts/generic_api_action_reference.py
#
# Waits between attempts are removed (tenacity.wait_none) to keep it short.
import json, threading, sys, tempfile, pathlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from sekoia_automation.action import GenericAPIAction
import tenacity

RECORDED = []
SCRIPT = []
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        RECORDED.append((self.command, self.path, dict(self.headers), body))
        status, payload = SCRIPT.pop(0) if SCRIPT else (200, b'{"id":123456789012345678901234567890,"score":1E2,"ok":true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = handle_one
    def log_message(self, *a): pass

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_address[1]}/api/v2"

def make(verb, endpoint, query=(), auth=None, header=None, qp=None):
    class A(GenericAPIAction):
        pass
    A.verb = verb; A.endpoint = endpoint; A.query_parameters = list(query)
    A.authentication = auth; A.auth_header = header; A.auth_query_param = qp
    A._wait_param = lambda self: tenacity.wait_none()
    return A

data = pathlib.Path(tempfile.mkdtemp())
(data / "bundle.json").write_text('{"objects": [{"n": 1.5e-7}]}')

def run(cls, conf, args, script=()):
    SCRIPT[:] = list(script)
    RECORDED.clear()
    a = cls(data_path=data)
    a.module.configuration = conf
    res = a.run(args)
    for m, p, h, b in RECORDED:
        print(m, p)
        print("  headers:", {k: v for k, v in h.items() if k.lower() not in ("host", "content-length", "connection", "accept-encoding", "user-agent")})
        print("  body:", b.decode())
    print("  results:", json.dumps(res) if res is not None else None)
    print("  error:", a._error)
    for l in a._logs:
        l = dict(l); l.pop("date")
        print("  log:", json.dumps(l))

run(make("post", "/alerts/{uuid}/comments", ["verbose", "tags"]), {"base_url": base, "api_key": 'key-"q"-123'},
    json.loads(r'{"uuid": "a b/é", "verbose": true, "tags": ["x y", "z"], "comment": "héllo 😀", "bundle_path": "bundle.json", "author": {"name": "ann"}, "skipped_path": "nope.json"}'))
run(make("get", "alerts"), {"base_url": base}, {}, [(204, b"")])
run(make("delete", "alerts/{uuid}"), {"base_url": base, "api_key": "key-123456"}, {"uuid": "u1", "force": False}, [(404, b'{"message": "alert not found", "code": 7}')])
run(make("get", "alerts"), {"base_url": base}, {}, [(400, b"not json")])
run(make("post", "/alerts/{uuid}/comments", ["verbose", "tags"]), {"base_url": base}, {"uuid": "u1"}, [(503, b"{}")]*10)
run(make("delete", "alerts/{uuid}"), {"base_url": base}, {"uuid": "u1"}, [(500, b""), (404, b'{"message": "gone"}')])
run(make("get", "me", auth="basic"), {"base_url": base, "username": "ann", "password": "pässword"}, {})
run(make("get", "lookup", ["q"], auth="apiKey", header="X-Key", qp="key"), {"base_url": base, "api_key": "k y+1"}, {"q": "1.2.3.4", "other": 5})
