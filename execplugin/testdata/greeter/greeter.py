import json, sys, threading

lock = threading.Lock()
def send(m):
    with lock:
        sys.stdout.write(json.dumps(m) + "\n"); sys.stdout.flush()

def handle(req):
    if req["handler"] == "hello":
        send({"type": "text", "id": req["id"], "text": "hello, @" + req["user"]["username"]})
    send({"type": "done", "id": req["id"]})

for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello":
        send({"type": "ready", "protocol": m["protocol"]})
    elif m["type"] == "request":
        threading.Thread(target=handle, args=(m,)).start()
    elif m["type"] == "deactivate":
        break
