#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/) from the inputs the unit and
integration tests use: small, one well-formed and a few malformed examples per parser. Run it
again after changing it; the files are checked in.
    tests/fuzz/make_seeds.py"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(type_, user_type, payload):
    return bytes([type_, user_type]) + struct.pack(">I", len(payload)) + payload


UPGRADE = (b"GET /pong HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ipc.text\r\n\r\n")

SEEDS = {
    "frame_decoder": [
        b"\x00" + frame(1, 0, b"hello"),
        b"\x03\x01\x05\x02" + frame(1, 4, b"a") + frame(3, 0, b"") + frame(2, 0, b"pong"),
        b"\x01\x00" + frame(4, 0, b"unavailable: busy") + frame(1, 0, b"x" * 300),
        b"\x00" + bytes([1, 0, 0xff, 0xff, 0xff, 0xff]),
        b"\x02\x00\x00" + frame(7, 0, b'{"service":"pong"}')[:5],
    ],
    "uri": [b"tcp://example.com:9000/pong", b"tls://alice:s3cr%65t@[2001:db8::1]:9443/pong",
            b"ws://127.0.0.1/pong", b"wss://Host.Example/echo2", b"udp://10.0.0.1:9000/time", b"pong",
            b"tcp://host:99999/x", b"tcp://host/../x", b"tcp://0x7f000001:1/pong"],
    "network": [b"pong tcp://example.com:9000/pong ;audio ws://media.example.com/audio",
                b" pong tcp://h:1/pong ; ; echo2 tls://u:p@h/echo", b"pong tcp://a/x;pong tcp://b/x",
                b"../x tcp://h/x", b"pong"],
    "json_frames": [
        b"\x00" + b'{"uri":"tcp://127.0.0.1:9000/pong","client":{"pid":1,"uid":1000,"gid":1000}}',
        b"\x00" + b'{"uri":"tls://u:p@h:1/pong","check_addresses":true}',
        b"\x01" + b'{"service":"pong","scheme":"tcp","peer":"192.0.2.7:51234","adopt":true}',
        b"\x01" + b'{"service":"pong","scheme":"tls","peer":"[2001:db8::1]:443","identity":"alice",'
                  b'"certificate":"client.example","replaces_adoption":true}',
        b"\x02" + b'{"service":"pong","scheme":"tcp","peer":"192.0.2.7:1","max_per_peer":8}',
        b"\x02" + b'{"service":"pong","scheme":"ws","peer":"127.0.0.1:5555","request":"GET /pong HTTP/1.1\\r\\n'
                  b'Host: h\\r\\n\\r\\n","subprotocol":"ipc.frame"}',
        b"\x03" + b'{"addresses":["127.0.0.1","::1"]}',
        b"\x03" + b'{"addresses":["0x7f000001"]}',
        b"\x02" + b"not json",
    ],
    "upgrade_request": [UPGRADE, UPGRADE.replace(b"ipc.text", b"chat, ipc.frame"),
                        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", UPGRADE + b"x", UPGRADE[:40]],
    "ws_mapping": [frame(1, 0, b"hello"), frame(2, 42, b"frame \x00\xff"), frame(9, 0, b""),
                   frame(1, 0, b"ab")[:-1], b"ipc.text", b"chat, ipc.frame, ipc.text", "h\u00e9llo \U0001f600".encode(),
                   b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"],
    "handshake": [b'{"version":1,"service":"pong"}', b'{"version":1,"service":"pong","user":"alice","password":"pw"}',
                  b'{"version":2,"service":"pong"}', b'{"version":1,"service":"../x"}', b'{"version":1}', b"[]"],
    "ipcd_rules": [b"\x00allow in pong tcp:127.0.0.1", b"\x00deny out * tcp:127.0.0.0/8",
                   b"\x00allow out pong uid:1000", b"\x00allow in pong tls:cert:client.example",
                   b"\x00deny in * ws:[::1]", b"\x00allow sideways pong *",
                   b'\x01{"policy":"deny","rules":["allow in pong tcp:127.0.0.1"],"redirects":{"a":"b"},'
                   b'"routes":{"x":"tcp://h:1/x"}} // comment',
                   b'\x01{"rules":[1]}', b'\x01{"redirects":{"a":"a"}}', b"\x01[]"],
    "lookup": [b"pong;", b"pong;pong tcp://127.0.0.1:9000/pong", b"alias;", b"far;", b"away;", b"old;", b"fine;",
               b"x;x tcp://h:1/secret", b"x;x unix:secret", b"secret;", b"ipc;", b"pong@adopt;", b"../x;",
               b"pong;pong tcp://10.1.2.3/pong", b"pong", b";", b"pong;pong gopher://x/y"],
    "daemon_config": [b'{"listen": ["127.0.0.1:9000", "[::1]:9000"], "psk": "a:00112233445566778899aabbccddeeff"}',
                      b'// a comment\n{"no-listen": true, "max-connections": 10, "timeout": 2.5}',
                      b'{"allow": [["in", "pong", "*"]], "name": "echo2"} /* end */', b'{"config": "x"}',
                      b'{"no-listen": 1}', b'{"max-connections": "many"}', b"[]", b"{"],
    "credentials": [b"\x00alice:00112233445566778899aabbccddeeff", b"\x00alice:0011", b"\x00:00112233445566778899aabbccddeeff",
                    b"\x00a b:00112233445566778899aabbccddeeff", b"\x00alice:zz112233445566778899aabbccddeeff",
                    b"\x01alice:" + b"00" * 16 + b":" + b"11" * 32, b"\x01alice:00:11", b"\x01alice", b"\x01:" + b"00" * 16,
                    b"\x02# keys\n\nalice:00112233445566778899aabbccddeeff\n bob:" + b"ff" * 32 + b"\r\n",
                    b"\x02alice:0011\n", b"\x02alice:00112233445566778899aabbccddeeff\nalice:00112233445566778899aabbccddeeff"],
    "web_names": [b"127.0.0.1:8080\nhttp://127.0.0.1:8080", b"localhost\nhttp://localhost", b"app.localhost:1\n",
                  b"[::1]:8080\nhttp://[::1]:8080", b"evil.example:8080\nhttp://evil.example:8080", b"BOX\nhttps://box",
                  b"127.0.0.1:99999\n", b"[127.0.0.1]\n", b"a..\n", b"\nnull"],
    "static_path": [b"/", b"/index.html", b"/sub/a.js?x=1", b"/../secret.txt", b"/%2e%2e/secret.txt",
                    b"/..%2fsecret.txt", b"/out.txt", b"/in.js", b"/up/secret.txt", b"/%00", b"index.html"],
}


def main():
    for target, seeds in SEEDS.items():
        directory = os.path.join(HERE, "corpus", target)
        os.makedirs(directory, exist_ok=True)
        for old in os.listdir(directory):
            os.remove(os.path.join(directory, old))
        for seed in seeds:
            with open(os.path.join(directory, hashlib.sha1(seed).hexdigest()[:16]), "wb") as f:
                f.write(seed)
    print(f"wrote {sum(len(s) for s in SEEDS.values())} seeds for {len(SEEDS)} targets")


if __name__ == "__main__":
    main()
