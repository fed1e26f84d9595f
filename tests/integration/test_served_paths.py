"""Issue 13 item 1 through the served adapter (`python -m adapter serve`): the attack paths sent
on a raw socket exactly as written (no client normalises them), the simulator as the e-Suite."""

import os
import socket
import subprocess
import sys
import time

import httpx
import orjson

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, fixture_env, kiss_headers
from tests.servers import free_port, running_server, stop_adapter

UUID = "6b49ddb3-f8be-452d-92ba-f780ee8d49db"
ATTACKS = [
    ("DELETE", f"/klanten/api/v1/../../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("PATCH", f"/zaken/api/v1/../../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("PUT", f"/catalogi/api/v1/../../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("DELETE", f"/documenten/api/v1/../../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("POST", "/contactmomenten/api/v1/x/../contactmomenten"),
    ("GET", "/klanten/api/v1/./klanten?emailadres=anna%40example.org"),
    ("DELETE", f"/klanten/api/v1/%2e%2e/%2e%2e/%2e%2e/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("DELETE", f"/klanten/api/v1/.%2e/.%2e/.%2e/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("GET", "/klanten/api/v1/x%2F..%2F..%2F..%2Fcontactmomenten-api-provider%2Fapi%2Fv1%2Fcontactmomenten"),
    ("GET", "/klanten/api/v1/x%5C..%5C..%5Cy"),
    ("GET", "/klanten/api/v1/x\\..\\..\\y"),
    ("GET", "/klanten/api/v1/%252e%252e/%252e%252e/y"),
    ("GET", "/klanten/api/v1//klanten"),
    ("GET", "/klanten/api/v1/x%00y"),
    ("POST", "/contactmomenten/api/v1/contactmomenten;x"),
    # Spellings other servers take for a detour (Tomcat, IIS, NFKC, a decoding proxy).
    ("POST", "/contactmomenten/api/v1/;x/contactmomenten"),
    ("GET", "/klanten/api/v1/;x/klanten?emailadres=anna%40example.org"),
    ("GET", "/klanten/api/v1/klanten/;x?emailadres=anna%40example.org"),
    (
        "DELETE",
        f"/klanten/api/v1/%u002e%u002e/%u002e%u002e/%u002e%u002e/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}",
    ),
    (
        "DELETE",
        "/klanten/api/v1/" + "%EF%BC%8E%EF%BC%8E/" * 3 + f"contactmomenten-api-provider/api/v1/contactmomenten/{UUID}",
    ),
    ("DELETE", f"/klanten/api/v1/..%20/..%20/..%20/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("DELETE", f"/klanten/api/v1/.../.../.../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}"),
    ("GET", "/klanten/api/v1/x%0d%0aX-Injected:%201"),
]


def raw_exchange(port: int, method: str, target: str, authorization: str) -> tuple[int, bytes]:
    body = b'{"type":"Terugbelverzoek","tekst":"Graag terugbellen."}' if method in ("POST", "PUT", "PATCH") else b""
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    return int(status_line.split(b" ")[1]), rest.partition(b"\r\n\r\n")[2]


def test_issue13_attack_paths_on_a_raw_socket_are_refused_and_reach_nothing():
    sim_port = free_port()
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}"))
    answers = []
    with running_server(sim, port=sim_port) as sim_url:
        port = free_port()
        env = {**os.environ, **fixture_env(ESUITE_BASE_URL=sim_url, LOG_LEVEL="WARNING")}
        process = subprocess.Popen(
            [sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "adapter did not start"
                    time.sleep(0.05)
            authorization = kiss_headers()["Authorization"]
            answers = [
                (method, target, *raw_exchange(port, method, target, authorization)) for method, target in ATTACKS
            ]
            # The control: an ordinary request does reach the simulator's request log.
            raw_exchange(port, "GET", "/catalogi/api/v1/zaaktypen", authorization)
        finally:
            stop_adapter(process)
    # The e-Suite heard the control request only.
    assert [(entry["method"], entry["path"]) for entry in sim.state.store.requests] == [
        ("GET", "/zgw-apis-provider/ztc/api/v1/zaaktypen")
    ]
    statuses = [(method, target, status) for method, target, status, _ in answers]
    assert statuses == [(method, target, 404 if target.endswith(";x") else 400) for method, target in ATTACKS]
    for _, target, status, body in answers:
        assert orjson.loads(body)["code"] == ("not_found" if status == 404 else "invalid")
