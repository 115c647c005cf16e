#!/usr/bin/python3
"""A stock WebSocket client (Debian's python3-websockets) and a headless-Chromium driver for
websocketd's integration tests. Run with /usr/bin/python3, where python3-websockets lives.

  echo URL SUBPROTOCOL MESSAGE [ORIGIN]  one round trip; prints the reply and the subprotocol
  frame URL                               one ipc.frame round trip (DATA, user_type 42)
  oversized URL SIZE                      a message of SIZE bytes on one connection while
                                          another one keeps working; prints the close code
  many URL COUNT                          COUNT concurrent clients, 5 checked round trips each
  browser CHROMIUM PAGE_URL               loads PAGE_URL in headless Chromium, prints the
                                          title it reaches ("pong ok", "pong failed: ...")

Exit status 0 on success, 1 on failure, 3 when the server refused the upgrade (the HTTP status
is printed as "refused NNN").
"""
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

TIMEOUT = 20


def frame(type_, user_type, payload):
    return bytes([type_]) + len(payload).to_bytes(4, "big") + bytes([user_type]) + payload


def connect(url, subprotocol=None, origin=None, max_size=2**25):
    # Not awaited here: the caller uses it as `async with connect(...) as ws`.
    return websockets.connect(url, subprotocols=[subprotocol] if subprotocol else None,
                                    origin=origin, max_size=max_size, open_timeout=TIMEOUT)


async def echo(url, subprotocol, message, origin=None):
    subprotocol = None if subprotocol == "none" else subprotocol
    try:
        async with connect(url, subprotocol, origin) as ws:
            await ws.send(message)
            reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
            print(json.dumps({"reply": reply, "subprotocol": ws.subprotocol, "text": isinstance(reply, str)}))
            return 0 if reply == message else 1
    except InvalidStatusCode as e:
        print(f"refused {e.status_code}")
        return 3


async def frame_echo(url):
    async with connect(url, "ipc.frame") as ws:
        if ws.subprotocol != "ipc.frame":
            print(f"subprotocol {ws.subprotocol}")
            return 1
        sent = frame(2, 42, b"frame \x00\xff through websocketd")
        await ws.send(sent)
        reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
        print(json.dumps({"equal": reply == sent, "user_type": reply[5] if len(reply) > 5 else None}))
        return 0 if reply == sent else 1


async def sizes(url):
    """Messages of every size class websocketd reads differently: within its first small read,
    just over it, several frames of a fragmented message, and 1 MiB (text and ipc.frame)."""
    results = {}
    async with connect(url, "ipc.text") as ws:
        for size in (0, 1, 255, 256, 257, 4096, 300_000, 1 << 20):
            message = "".join(chr(ord("a") + (i * 7) % 26) for i in range(size))
            await ws.send(message)
            results[f"text {size}"] = await asyncio.wait_for(ws.recv(), TIMEOUT) == message
        parts = ["x" * 100, "y" * 70_000, "z" * 3]
        await ws.send(iter(parts))  # one message in three WebSocket frames
        results["fragmented"] = await asyncio.wait_for(ws.recv(), TIMEOUT) == "".join(parts)
    async with connect(url, "ipc.frame") as ws:
        for size in (0, 250, 251, 70_000, 1 << 20):
            sent = frame(2, 7, bytes((i * 13) % 256 for i in range(size)))
            await ws.send(sent)
            results[f"frame {size}"] = await asyncio.wait_for(ws.recv(), TIMEOUT) == sent
    print(json.dumps({"all": all(results.values()), "results": results}))
    return 0 if all(results.values()) else 1


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


async def stall_announced(url, size, pid):
    """A client that announces one frame of SIZE bytes, sends 1000 of them and goes silent: how
    much does websocketd's memory (process PID) grow, and is everybody else still served?"""
    m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    async with connect(url, "ipc.text") as other:
        async def round_trip(text):
            await other.send(text)
            return await asyncio.wait_for(other.recv(), TIMEOUT) == text
        await round_trip("warm up")
        before = rss_kib(pid)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ipc.text\r\n\r\n").encode())
        response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        if b" 101 " not in response.split(b"\r\n")[0]:
            print(json.dumps({"handshake": response.decode(errors="replace")}))
            return 1
        # FIN + binary, masked (a client must mask; an all-zero key leaves the bytes as they are),
        # 64-bit length SIZE, then 1000 bytes of it and silence.
        writer.write(bytes([0x82, 0x80 | 127]) + size.to_bytes(8, "big") + bytes(4) + b"x" * 1000)
        await writer.drain()
        # websocketd serves one event at a time: once these round trips are done it has read what
        # the stalled client sent.
        ok = all([await round_trip(f"still here {i}") for i in range(20)])
        grown = rss_kib(pid) - before
        writer.close()
        print(json.dumps({"grown_kib": grown, "other": ok}))
        return 0 if ok else 1


async def oversized(url, size):
    async with connect(url, "ipc.text") as other:
        big = await connect(url, "ipc.text")  # awaited: a plain connection, closed by the server
        try:
            await big.send(b"x" * size)  # may itself be cut short by the server's close
            await asyncio.wait_for(big.recv(), TIMEOUT)
            print("no close")
            return 1
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            reason = e.rcvd.reason if e.rcvd else ""
        # The other connection is served on.
        await other.send("still here")
        reply = await asyncio.wait_for(other.recv(), TIMEOUT)
        print(json.dumps({"code": code, "reason": reason, "other": reply}))
        return 0 if reply == "still here" else 1


async def many(url, count):
    async def one(i):
        async with connect(url, "ipc.text") as ws:
            for k in range(5):
                message = f"client {i} message {k}"
                await ws.send(message)
                if await asyncio.wait_for(ws.recv(), TIMEOUT) != message:
                    return False
        return True
    # All connect first, then talk: COUNT connections open at once.
    results = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
    ok = sum(1 for r in results if r is True)
    errors = [repr(r) for r in results if r is not True][:3]
    print(json.dumps({"ok": ok, "errors": errors}))
    return 0 if ok == count else 1


async def browser(chromium, page_url):
    profile = tempfile.mkdtemp(prefix="ipc-chromium-")
    process = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        loop = asyncio.get_running_loop()
        devtools = None
        deadline = loop.time() + 60
        while devtools is None:
            # Chromium prints its DevTools address on stderr once it listens.
            line = await asyncio.wait_for(loop.run_in_executor(None, process.stderr.readline),
                                          max(1, deadline - loop.time()))
            if not line:
                print("chromium exited before listening for DevTools")
                return 1
            match = re.search(rb"DevTools listening on (ws://\S+)", line)
            if match:
                devtools = match.group(1).decode()
        async with websockets.connect(devtools, max_size=2**24, open_timeout=TIMEOUT) as cdp:
            next_id = 0

            async def call(method, params=None, session=None):
                nonlocal next_id
                next_id += 1
                message = {"id": next_id, "method": method, "params": params or {}}
                if session:
                    message["sessionId"] = session
                await cdp.send(json.dumps(message))
                while True:  # events arrive in between; skip them
                    answer = json.loads(await asyncio.wait_for(cdp.recv(), TIMEOUT))
                    if answer.get("id") == next_id:
                        if "error" in answer:
                            raise RuntimeError(f"{method}: {answer['error']}")
                        return answer["result"]

            target = (await call("Target.createTarget", {"url": "about:blank"}))["targetId"]
            session = (await call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
            await call("Page.navigate", {"url": page_url}, session)
            title = ""
            while loop.time() < deadline:
                result = await call("Runtime.evaluate", {"expression": "document.title", "returnByValue": True},
                                    session)
                title = result.get("result", {}).get("value", "")
                if title == "pong ok" or title.startswith("pong failed"):
                    break
                await asyncio.sleep(0.1)  # polling the page, not synchronising with a daemon
            print(title)
            return 0 if title == "pong ok" else 1
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        subprocess.run(["rm", "-rf", profile], check=False)


def main(argv):
    mode, args = argv[1], argv[2:]
    if mode == "echo":
        return asyncio.run(echo(*args))
    if mode == "frame":
        return asyncio.run(frame_echo(args[0]))
    if mode == "stall_announced":
        return asyncio.run(stall_announced(args[0], int(args[1]), int(args[2])))
    if mode == "sizes":
        return asyncio.run(sizes(args[0]))
    if mode == "oversized":
        return asyncio.run(oversized(args[0], int(args[1])))
    if mode == "many":
        return asyncio.run(many(args[0], int(args[1])))
    if mode == "browser":
        return asyncio.run(browser(args[0], args[1]))
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
